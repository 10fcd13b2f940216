import { api, get, link } from '../api/client.js';
import { COLORS, ChartCanvas } from '../charts.js';
import { bytes, duration, lastSegment, utc } from '../format.js';
import { usePoll } from '../use-poll.js';
import type { RestoreSession } from './restore-session-watch.js';
import { diskCounters, estimate, plannedBytes, type Sample } from './session-figures.js';

/** One restore session: progress with rate and time left, the blocks QuickRollback fetched and left alone, its log. */
export function RestoreSessionDetails({ session: s, samples, onClose }: { session: RestoreSession; samples: Sample[]; onClose: () => void }) {
  const id = lastSegment(s.Href);
  const logHref = link(s, 'openem:Details', 'openem:RestoreSessionLog')?.Href ?? api(`/openem/restoreSessions/${id}/log`);
  const { data: log } = usePoll(async () => ((await get(logHref)).Log ?? []) as { Time: string; Text: string }[], s.State === 'Stopped' ? undefined : 1000, [id, s.State]);
  const counters = diskCounters(log ?? []);
  const planned = plannedBytes(log ?? []);
  const est = estimate(samples);
  const done = planned !== undefined ? (planned * s.Progress) / 100 : undefined;
  return (
    <section class="card" aria-labelledby="session-title" id="session-details">
      <div class="view-head">
        <h2 id="session-title">{s.Name}</h2>
        <button type="button" onClick={onClose}>Close</button>
      </div>
      <dl class="facts">
        <div><dt>State</dt><dd id="session-state">{s.State}</dd></div>
        <div><dt>Result</dt><dd id="session-result" class={`result ${s.Result.toLowerCase()}`}>{s.Result}</dd></div>
        <div><dt>Progress</dt><dd><progress max={100} value={s.Progress} /> {s.Progress}%</dd></div>
        <div><dt>Started</dt><dd>{utc(s.CreationTimeUTC)}</dd></div>
        {s.EndTimeUTC && <div><dt>Ended</dt><dd>{utc(s.EndTimeUTC)} (took {duration((Date.parse(s.EndTimeUTC) - Date.parse(s.CreationTimeUTC)) / 1000)})</dd></div>}
        {done !== undefined && <div><dt>Written</dt><dd>≈ {bytes(done)} of {bytes(planned)}</dd></div>}
        {s.State !== 'Stopped' && est.percentPerSecond !== undefined && (
          <div><dt>Rate</dt><dd>{planned !== undefined ? `≈ ${bytes((planned * est.percentPerSecond) / 100)}/s` : `≈ ${est.percentPerSecond.toFixed(1)} %/s`} · ≈ {duration(est.secondsLeft)} left</dd></div>
        )}
      </dl>
      {s.FailureMessage && <p class="error failure" role="alert" id="session-failure"><strong>Failed:</strong> {s.FailureMessage}</p>}
      {counters.length > 0 && (
        <div class="figure">
          <h3>Blocks per disk</h3>
          <ChartCanvas
            label="Blocks fetched from the repository, zeroed and left unchanged, per disk"
            config={{
              type: 'bar',
              data: {
                labels: counters.map((c) => c.disk),
                datasets: [
                  { label: 'fetched and written', data: counters.map((c) => c.blocksFetched), backgroundColor: COLORS.blue },
                  { label: 'zeroed', data: counters.map((c) => c.blocksZeroed), backgroundColor: COLORS.amber },
                  { label: 'left unchanged', data: counters.map((c) => c.blocksUnchanged), backgroundColor: COLORS.slate },
                ],
              },
              options: { indexAxis: 'y', scales: { x: { stacked: true }, y: { stacked: true } } },
            }}
          />
          <table class="figures" id="block-counters">
            <thead><tr><th>Disk</th><th>Fetched</th><th>Written</th><th>Zeroed</th><th>Left unchanged</th></tr></thead>
            <tbody>{counters.map((c) => <tr><td>{c.disk}</td><td>{c.blocksFetched} ({c.mibFetched} MiB)</td><td>{c.blocksWritten}</td><td>{c.blocksZeroed}</td><td>{c.blocksUnchanged}</td></tr>)}</tbody>
          </table>
        </div>
      )}
      <h3>Log</h3>
      <ol class="log" id="session-log" aria-live="polite">
        {(log ?? []).map((r) => <li><time>{utc(r.Time)}</time> {r.Text}</li>)}
      </ol>
    </section>
  );
}
