import { useState } from 'preact/hooks';
import type { Account } from '../account.js';
import { api, call, get, link, message } from '../api/client.js';
import { bytes, duration, utc } from '../format.js';
import { usePoll } from '../use-poll.js';

interface BackupJobSession {
  Name: string;
  JobName: string;
  CreationTimeUTC: string;
  EndTimeUTC?: string;
  State: string;
  Result: string;
  Progress: number;
  FailureMessage?: string | null;
  Href: string;
  Links: { Rel: string; Href: string; Type?: string }[];
}

/** Backup job sessions (backupsessions.md) with their per-VM task sessions; a running one can be stopped where the role allows. */
export function BackupSessions({ account }: { account: Account }) {
  const { data: sessions, error, reload } = usePoll(async () => {
    const r = await get(api('/backupSessions?format=Entity'));
    return ((r.BackupJobSessions ?? []) as BackupJobSession[]).sort((a, b) => b.CreationTimeUTC.localeCompare(a.CreationTimeUTC));
  }, 2000);
  const [open, setOpen] = useState<string | undefined>();
  const [notice, setNotice] = useState('');
  const stop = async (s: BackupJobSession) => {
    try {
      const task = await call('POST', link(s, 'Stop')!.Href);
      setNotice(`Stop of ${s.Name} requested (task ${task.TaskId})`);
      void reload();
    } catch (e) {
      setNotice(message(e));
    }
  };
  return (
    <section class="card" aria-labelledby="backup-sessions-title">
      <h2 id="backup-sessions-title">Backup sessions</h2>
      {error && <p class="error" role="alert">{error}</p>}
      <p class="status" role="status">{notice}</p>
      {sessions && sessions.length === 0 && <p class="muted">No backup sessions in your scope.</p>}
      {sessions && sessions.length > 0 && (
        <div class="table-wrap">
          <table id="backup-sessions" class="sessions">
            <thead><tr><th>Session</th><th>State</th><th>Result</th><th>Progress</th><th class="wide-only">Duration</th><th><span class="sr-only">Actions</span></th></tr></thead>
            <tbody>
              {sessions.map((s) => (
                <>
                  <tr>
                    <td><button type="button" class="link" aria-expanded={open === s.Href} onClick={() => setOpen(open === s.Href ? undefined : s.Href)}>{s.Name}</button></td>
                    <td>{s.State}</td>
                    <td class={`result ${s.Result.toLowerCase()}`}>{s.Result}{s.FailureMessage ? `: ${s.FailureMessage}` : ''}</td>
                    <td><progress max={100} value={s.Progress} /> {s.Progress}%</td>
                    <td class="wide-only">{s.EndTimeUTC ? duration((Date.parse(s.EndTimeUTC) - Date.parse(s.CreationTimeUTC)) / 1000) : `since ${utc(s.CreationTimeUTC)}`}</td>
                    <td>{account.CanStopBackupSessions && s.State !== 'Stopped' && link(s, 'Stop') && <button type="button" class="danger" onClick={() => stop(s)}>Stop</button>}</td>
                  </tr>
                  {open === s.Href && <tr class="sub"><td colSpan={6}><TaskSessions session={s} /></td></tr>}
                </>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function TaskSessions({ session }: { session: BackupJobSession }) {
  const { data, error } = usePoll(async () => (await get(`${link(session, 'Down', 'BackupTaskSessionReferenceList')!.Href}?format=Entity`)).BackupTaskSessions ?? [], session.State === 'Stopped' ? undefined : 2000, [session.Href, session.State]);
  if (error) return <p class="error">{error}</p>;
  return (
    <ul class="task-sessions">
      {(data ?? []).map((t: any) => <li><strong>{t.VmDisplayName}</strong> {t.State} · {t.Result} · {bytes(t.TotalSize)} provisioned{t.Reason ? ` · ${t.Reason}` : ''}</li>)}
    </ul>
  );
}
