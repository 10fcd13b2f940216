import { useEffect, useRef } from 'preact/hooks';
import {
  ArcElement, BarController, BarElement, CategoryScale, Chart, DoughnutController, Filler, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip,
  type ChartConfiguration,
} from 'chart.js';

Chart.register(ArcElement, BarController, BarElement, CategoryScale, DoughnutController, Filler, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip);
// Drawn once, at once: the figures are read, not watched move.
Chart.defaults.animation = false;
Chart.defaults.maintainAspectRatio = false;
Chart.defaults.font.family = 'system-ui, sans-serif';
Chart.defaults.color = '#334155';

export const COLORS = { blue: '#2563eb', teal: '#0d9488', amber: '#d97706', red: '#dc2626', slate: '#94a3b8', green: '#16a34a', violet: '#7c3aed' };

/** A Chart.js chart on a canvas of its own, rebuilt when its configuration changes; destroyed with the component. */
export function ChartCanvas({ config, label, id }: { config: ChartConfiguration; label: string; id?: string }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const chart = new Chart(canvas.current!, config);
    return () => chart.destroy();
  }, [JSON.stringify(config.data), config.type]);
  return (
    <div class="chart-box">
      <canvas ref={canvas} id={id} role="img" aria-label={label} />
    </div>
  );
}
