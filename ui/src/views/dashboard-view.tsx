import type { ComponentChildren } from 'preact';
import { COLORS, ChartCanvas } from '../charts.js';
import { bytes, duration, utc } from '../format.js';
import { usePoll } from '../use-poll.js';
import { loadDashboard, type Dashboard } from './dashboard-data.js';

const MIB = 2 ** 20;

function Panel({ id, title, children, wide }: { id: string; title: string; children: ComponentChildren; wide?: boolean }) {
  return (
    <section class={`card panel${wide ? ' wide' : ''}`} id={id} aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>{title}</h2>
      {children}
    </section>
  );
}

/** Each figure also as a small table beside its chart: readable without the picture, and what the tests compare. */
function Figures({ rows, id }: { rows: [string, string | number][]; id: string }) {
  return (
    <table class="figures" id={id}>
      <tbody>{rows.map(([k, v]) => <tr><th scope="row">{k}</th><td data-value={String(v)}>{typeof v === 'number' ? v.toLocaleString('en-US') : v}</td></tr>)}</tbody>
    </table>
  );
}

function Tile({ label, value, id }: { label: string; value: string; id: string }) {
  return <div class="tile" id={id}><span class="tile-value">{value}</span><span class="tile-label">{label}</span></div>;
}

/** Pictures of what is protected and how backups and restores go, for a Portal Administrator (the reports are theirs). */
export function DashboardView() {
  const { data: d, error } = usePoll(loadDashboard, 15_000);
  return (
    <div class="stack">
      <h1>Dashboard</h1>
      {error && <p class="error" role="alert">{error}</p>}
      {!d && !error && <p class="muted" role="status">Loading the reports…</p>}
      {d && <Charts d={d} />}
    </div>
  );
}

function Charts({ d }: { d: Dashboard }) {
  const { period, vms, jobs, overview } = d;
  const usedOther = Math.max(0, period.Capacity - period.FreeSpace - period.BackupSize);
  const jobTotals = d.perDay.reduce((t, [, r]) => ({ Success: t.Success + r.Success, Warning: t.Warning + r.Warning, Failed: t.Failed + r.Failed }), { Success: 0, Warning: 0, Failed: 0 });
  return (
    <>
      <div class="tiles">
        <Tile id="tile-protected" label="protected VMs" value={String(vms.ProtectedVms)} />
        <Tile id="tile-points" label="restore points" value={String(vms.RestorePoints)} />
        <Tile id="tile-backup-size" label="in the repository" value={bytes(period.BackupSize)} />
        <Tile id="tile-free" label="free" value={bytes(period.FreeSpace)} />
        <Tile id="tile-success" label="backups succeeded" value={`${vms.SuccessBackupPercents}%`} />
      </div>
      <div class="panels">
        <Panel id="chart-capacity" title={`Repository capacity — ${period.Name}`}>
          <ChartCanvas label="Repository capacity: backups, other data, free" config={{
            type: 'doughnut',
            data: { labels: ['Backups', 'Other data', 'Free'], datasets: [{ data: [period.BackupSize, usedOther, period.FreeSpace], backgroundColor: [COLORS.blue, COLORS.slate, '#e2e8f0'] }] },
            options: { plugins: { tooltip: { callbacks: { label: (c) => `${c.label}: ${bytes(c.parsed as number)}` } } } },
          }} />
          <Figures id="figures-capacity" rows={[['Capacity', period.Capacity], ['Free space', period.FreeSpace], ['Backup size', period.BackupSize]]} />
        </Panel>
        <Panel id="chart-growth" title="Repository use over time">
          <ChartCanvas label="Bytes the backup files add up to, as each restore point was made" config={{
            type: 'line',
            data: { labels: d.growth.map((g) => utc(g.at)), datasets: [{ label: 'backup files (MiB)', data: d.growth.map((g) => +(g.bytes / MIB).toFixed(2)), borderColor: COLORS.blue, backgroundColor: 'rgba(37,99,235,0.15)', fill: true, stepped: true }] },
            options: { scales: { x: { ticks: { maxTicksLimit: 6 } } } },
          }} />
          <Figures id="figures-growth" rows={[['Backup files', d.growth.length], ['Their size now', d.growth[d.growth.length - 1]?.bytes ?? 0], ['Full points', vms.FullBackupPointsSize], ['Increments', vms.IncrementalBackupPointsSize]]} />
        </Panel>
        <Panel id="chart-dedup" title="Data in restore points vs stored">
          <ChartCanvas label="Per VM: data the restore points describe and bytes stored after deduplication and compression" config={{
            type: 'bar',
            data: {
              labels: d.backups.map((b) => b.name),
              datasets: [
                { label: 'data in restore points (MiB)', data: d.backups.map((b) => +(b.data / MIB).toFixed(2)), backgroundColor: COLORS.slate },
                { label: 'stored (MiB)', data: d.backups.map((b) => +(b.stored / MIB).toFixed(2)), backgroundColor: COLORS.teal },
              ],
            },
          }} />
          <Figures id="figures-dedup" rows={d.backups.flatMap((b) => [[`${b.name} data`, b.data], [`${b.name} stored`, b.stored]] as [string, number][])} />
        </Panel>
        <Panel id="chart-jobs" title="Job results per day">
          <ChartCanvas label="Backup job runs per day by result" config={{
            type: 'bar',
            data: {
              labels: d.perDay.map(([day]) => day),
              datasets: [
                { label: 'Success', data: d.perDay.map(([, r]) => r.Success), backgroundColor: COLORS.green },
                { label: 'Warning', data: d.perDay.map(([, r]) => r.Warning), backgroundColor: COLORS.amber },
                { label: 'Failed', data: d.perDay.map(([, r]) => r.Failed), backgroundColor: COLORS.red },
              ],
            },
            options: { scales: { x: { stacked: true }, y: { stacked: true, ticks: { precision: 0 } } } },
          }} />
          <Figures id="figures-jobs" rows={[['Job runs', jobs.TotalJobRuns], ['Successful', jobTotals.Success], ['Warnings', jobTotals.Warning], ['Failed', jobTotals.Failed], ['Longest run', duration(jobs.MaxJobDuration)]]} />
        </Panel>
        <Panel id="chart-protected" title="Protected VMs">
          <ChartCanvas label="VMs backed up per day, last 7 days" config={{
            type: 'bar',
            data: { labels: d.processedDays.map((x) => x.Timestamp.slice(0, 10)), datasets: [{ label: 'VMs backed up', data: d.processedDays.map((x) => x.BackupedVms), backgroundColor: COLORS.violet }] },
            options: { scales: { y: { ticks: { precision: 0 } } } },
          }} />
          <Figures id="figures-protected" rows={[['Protected VMs', vms.ProtectedVms], ['Backed up VMs', vms.BackedUpVms], ['Latest state success', overview.SuccessfulVmLastestStates], ['Latest state warning', overview.WarningVmLastestStates], ['Latest state failed', overview.FailedVmLastestStates]]} />
        </Panel>
        <Panel id="chart-throughput" title="Backup and restore throughput" wide>
          <ChartCanvas label="Backup runs: MiB per second of each VM backup; restore sessions: seconds each took" config={{
            type: 'bar',
            data: {
              labels: d.backupRuns.map((r) => r.name),
              datasets: [{ label: 'backup MiB/s (point data over the run time, whole seconds)', data: d.backupRuns.map((r) => +(r.bytes / MIB / r.seconds).toFixed(2)), backgroundColor: COLORS.blue }],
            },
            options: { scales: { x: { ticks: { maxTicksLimit: 8 } } } },
          }} />
          <ChartCanvas label="Restore sessions: how long each took" config={{
            type: 'bar',
            data: {
              labels: d.restoreRuns.map((r) => r.name),
              datasets: [{ label: 'restore session seconds', data: d.restoreRuns.map((r) => r.seconds), backgroundColor: d.restoreRuns.map((r) => (r.result === 'Failed' ? COLORS.red : COLORS.teal)) }],
            },
          }} />
          <Figures id="figures-throughput" rows={[['Backup runs', d.backupRuns.length], ['Backup data', d.backupRuns.reduce((n, r) => n + r.bytes, 0)], ['Restore sessions', d.restoreRuns.length]]} />
        </Panel>
      </div>
    </>
  );
}
