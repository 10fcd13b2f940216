import { useRef } from 'preact/hooks';
import type { Account } from '../account.js';
import { api, get } from '../api/client.js';
import { age, duration, lastSegment, utc } from '../format.js';
import { go } from '../route.js';
import { usePoll } from '../use-poll.js';
import { BackupSessions } from './backup-sessions.js';
import { RestoreSessionDetails } from './restore-session-details.js';
import type { RestoreSession } from './restore-session-watch.js';
import { estimate, type Sample } from './session-figures.js';

const running = (s: { State: string }) => s.State !== 'Stopped';

/** Restore sessions (the caller's own; all of them for a Portal Administrator) and backup sessions, live. */
export function SessionsView({ account, params }: { account: Account; params: URLSearchParams }) {
  const samples = useRef(new Map<string, Sample[]>());
  const { data: sessions, error } = usePoll(async () => {
    const r = await get(api('/restoreSessions?format=Entity'));
    const list = ((r.RestoreSessions ?? []) as RestoreSession[]).sort((a, b) => b.CreationTimeUTC.localeCompare(a.CreationTimeUTC));
    const now = Date.now();
    for (const s of list) {
      const id = lastSegment(s.Href);
      const seen = samples.current.get(id) ?? [];
      if (running(s) && seen[seen.length - 1]?.progress !== s.Progress) seen.push({ at: now, progress: s.Progress });
      samples.current.set(id, seen.slice(-60));
    }
    return list;
  }, 1000);
  const selected = params.get('session') ?? '';
  const chosen = sessions?.find((s) => lastSegment(s.Href) === selected);
  return (
    <div class="stack">
      <h1>Sessions</h1>
      <section class="card" aria-labelledby="restore-sessions-title">
        <h2 id="restore-sessions-title">Restore sessions</h2>
        {error && <p class="error" role="alert">{error}</p>}
        {sessions && sessions.length === 0 && <p class="muted">No restore sessions yet.</p>}
        {sessions && sessions.length > 0 && (
          <div class="table-wrap">
            <table id="restore-sessions" class="sessions">
              <thead><tr><th>Session</th><th class="wide-only">Type</th><th>State</th><th>Result</th><th>Progress</th><th class="wide-only">Started</th><th class="wide-only">Time left</th></tr></thead>
              <tbody>
                {sessions.map((s) => {
                  const id = lastSegment(s.Href);
                  const est = estimate(samples.current.get(id) ?? []);
                  return (
                    <tr data-session={id} class={id === selected ? 'selected' : ''}>
                      <td><a href={`#/sessions?session=${id}`} class="session-name">{s.Name}</a></td>
                      <td class="wide-only">{s.JobType === 'FileLevelRestore' ? 'File restore' : 'Entire VM'}</td>
                      <td class="state">{s.State}</td>
                      <td class={`result ${s.Result.toLowerCase()}`}>{s.Result}</td>
                      <td><progress max={100} value={s.Progress} aria-label={`${s.Progress}%`} /> <span class="pct">{s.Progress}%</span></td>
                      <td class="wide-only">{age(s.CreationTimeUTC)}</td>
                      <td class="wide-only">{running(s) ? duration(est.secondsLeft) : s.EndTimeUTC ? `took ${duration((Date.parse(s.EndTimeUTC) - Date.parse(s.CreationTimeUTC)) / 1000)}` : ''}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
      </section>
      {chosen && <RestoreSessionDetails session={chosen} samples={samples.current.get(selected) ?? []} onClose={() => go('sessions')} />}
      <BackupSessions account={account} />
      <p class="muted small">Times are UTC ({utc(new Date().toISOString())} now).</p>
    </div>
  );
}
