import { age, bytes, utc } from '../format.js';
import type { VmPoints } from './vm-points.js';

/**
 * A VM's restore points on a time axis (oldest left, newest right): a square for a Full, a dot for an Increment.
 * Each marker is a button, so the timeline is also a keyboard-usable list of points.
 */
export function PointTimeline({ vm, selected, onSelect, now }: { vm: VmPoints; selected?: string; onSelect: (id: string) => void; now: number }) {
  const times = vm.points.map((p) => Date.parse(p.CreationTimeUTC));
  const first = Math.min(...times);
  const last = Math.max(...times, first + 1);
  const span = Math.max(last - first, 1);
  return (
    <div class="timeline" role="group" aria-label={`Restore points of ${vm.vmName}`}>
      <div class="timeline-track" aria-hidden="true" />
      {[...vm.points].reverse().map((p) => {
        const t = Date.parse(p.CreationTimeUTC);
        const left = vm.points.length === 1 ? 50 : 4 + ((t - first) / span) * 92;
        const label = `${p.PointType} ${utc(p.CreationTimeUTC)} (${age(p.CreationTimeUTC, now)}${p.size !== undefined ? `, ${bytes(p.size)}` : ''})`;
        return (
          <button
            type="button"
            class={`marker ${p.PointType === 'Full' ? 'full' : 'increment'}${selected === p.id ? ' selected' : ''}`}
            style={{ left: `${left}%` }}
            title={label}
            aria-label={label}
            aria-pressed={selected === p.id}
            data-point={p.id}
            onClick={() => onSelect(p.id)}
          />
        );
      })}
      <div class="timeline-ends" aria-hidden="true">
        <span>{utc(vm.points[vm.points.length - 1]?.CreationTimeUTC)}</span>
        <span>{utc(vm.points[0]?.CreationTimeUTC)}</span>
      </div>
    </div>
  );
}
