import { api, get } from '../api/client.js';
import { day } from '../format.js';

/**
 * Everything the dashboard draws, read from the API `/reports/summary` serves and from the lists its reports link
 * to (`/backupFiles`, `/backupSessions`, `/backupTaskSessions`, `/restoreSessions`), so each figure agrees with them.
 */
export async function loadDashboard() {
  const report = (name: string) => get(api(`/reports/summary/${name}`));
  const [overview, vms, jobs, processed, repository, files, sessions, tasks, restores] = await Promise.all([
    report('overview'), report('vms_overview'), report('job_statistics'), report('processed_vms'), report('repository'),
    get(api('/backupFiles?format=Entity')), get(api('/backupSessions?format=Entity')), get(api('/backupTaskSessions?format=Entity')), get(api('/restoreSessions?format=Entity')),
  ]);
  const period = repository.Periods?.[0] ?? { Name: 'repository', Capacity: 0, FreeSpace: 0, BackupSize: 0 };

  // Backup files, oldest first: the repository's use as it grew (each file's BackupSize is what its point added).
  const fileList = ((files.BackupFiles ?? []) as any[]).sort((a, b) => a.CreationTimeUtc.localeCompare(b.CreationTimeUtc));
  let total = 0;
  const growth = fileList.map((f) => ({ at: f.CreationTimeUtc as string, bytes: (total += f.BackupSize) }));
  const byBackup = new Map<string, { name: string; data: number; stored: number }>();
  for (const f of fileList) {
    const name = String(f.Links?.find((l: any) => l.Type === 'BackupReference')?.Name ?? 'backup').replace(/^Backup /, '');
    const b = byBackup.get(name) ?? { name, data: 0, stored: 0 };
    b.data += f.DataSize;
    b.stored += f.BackupSize;
    byBackup.set(name, b);
  }

  // Job results per day, from the backup job sessions the job statistics count.
  const perDay = new Map<string, { Success: number; Warning: number; Failed: number }>();
  for (const s of (sessions.BackupJobSessions ?? []) as any[]) {
    if (s.State !== 'Stopped') continue;
    const d = perDay.get(day(s.CreationTimeUTC)) ?? { Success: 0, Warning: 0, Failed: 0 };
    if (s.Result in d) d[s.Result as 'Success']++;
    perDay.set(day(s.CreationTimeUTC), d);
  }

  // Throughput: a VM backup's data (its point's DataSize) over its task session's time; a restore session's time.
  const sizeOfPoint = new Map(fileList.map((f) => [String(f.Name).replace(/\.json$/, ''), f.DataSize as number]));
  const backupRuns = ((tasks.BackupTaskSessions ?? []) as any[])
    .filter((t) => t.EndTimeUTC && t.Result === 'Success')
    .map((t) => {
      const point = String(t.Links?.find((l: any) => l.Type === 'VmRestorePoint')?.Href ?? '').split('?')[0].split('/').pop() ?? '';
      const seconds = Math.max(1, (Date.parse(t.EndTimeUTC) - Date.parse(t.CreationTimeUTC)) / 1000);
      return { name: t.Name as string, at: t.CreationTimeUTC as string, bytes: sizeOfPoint.get(point) ?? 0, seconds };
    })
    .sort((a, b) => a.at.localeCompare(b.at));
  const restoreRuns = ((restores.RestoreSessions ?? []) as any[])
    .filter((s) => s.EndTimeUTC)
    .map((s) => ({ name: s.Name as string, at: s.CreationTimeUTC as string, result: s.Result as string, seconds: Math.max(0, (Date.parse(s.EndTimeUTC) - Date.parse(s.CreationTimeUTC)) / 1000) }))
    .sort((a, b) => a.at.localeCompare(b.at));

  return {
    overview, vms, jobs, period,
    processedDays: (processed.Days ?? []) as { Timestamp: string; BackupedVms: number; ReplicatedVms: number }[],
    growth, backups: [...byBackup.values()].sort((a, b) => a.name.localeCompare(b.name)),
    perDay: [...perDay.entries()].sort(([a], [b]) => a.localeCompare(b)),
    backupRuns, restoreRuns,
  };
}

export type Dashboard = Awaited<ReturnType<typeof loadDashboard>>;
