import { useState } from 'preact/hooks';
import type { Account } from '../account.js';
import { PLATFORM_NAME, age, bytes, utc } from '../format.js';
import { usePoll } from '../use-poll.js';
import { loadVmPoints } from './vm-points.js';
import { PointTimeline } from './point-timeline.js';
import { VmRestoreForm } from './vm-restore-form.js';

/** Every VM in the caller's scope with its restore points on a timeline, and entire VM restore from the chosen point. */
export function VmsView({ account }: { account: Account }) {
  const { data: vms, error } = usePoll(loadVmPoints, undefined);
  const [filter, setFilter] = useState('');
  const [selected, setSelected] = useState<{ vm: string; point: string } | undefined>();
  const now = Date.now();
  const shown = (vms ?? []).filter((v) => v.vmName.toLowerCase().includes(filter.trim().toLowerCase()));
  return (
    <section aria-labelledby="vms-title">
      <div class="view-head">
        <h1 id="vms-title">VMs</h1>
        <label class="inline">Filter <input id="vm-filter" type="search" placeholder="VM name" value={filter} onInput={(e) => setFilter(e.currentTarget.value)} /></label>
      </div>
      {error && <p class="error" role="alert">{error}</p>}
      {!vms && !error && <p class="muted" role="status">Loading restore points…</p>}
      {vms && shown.length === 0 && <p class="muted">No VMs with restore points{filter ? ' match the filter' : ' in your restore scope'}.</p>}
      <ul class="vm-list" id="vm-list">
        {shown.map((vm) => {
          const sel = selected?.vm === vm.vmName ? vm.points.find((p) => p.id === selected.point) : undefined;
          return (
            <li class="card vm-card" data-vm={vm.vmName}>
              <div class="vm-head">
                <h2>{vm.vmName}</h2>
                <span class={`badge ${vm.platform}`}>{PLATFORM_NAME[vm.platform]}</span>
                <span class="muted">{vm.points.length} restore point{vm.points.length === 1 ? '' : 's'} · newest {age(vm.points[0]?.CreationTimeUTC, now)}</span>
              </div>
              <PointTimeline vm={vm} now={now} selected={sel?.id} onSelect={(id) => setSelected({ vm: vm.vmName, point: id })} />
              <div class="table-wrap">
                <table class="points">
                  <thead><tr><th>Created (UTC)</th><th>Type</th><th class="wide-only">Age</th><th>Size</th><th><span class="sr-only">Choose</span></th></tr></thead>
                  <tbody>
                    {vm.points.map((p) => (
                      <tr data-point={p.id} class={sel?.id === p.id ? 'selected' : ''}>
                        <td>{utc(p.CreationTimeUTC)}</td>
                        <td><span class={`type ${p.PointType === 'Full' ? 'full' : 'increment'}`}>{p.PointType}</span></td>
                        <td class="wide-only">{age(p.CreationTimeUTC, now)}</td>
                        <td>{bytes(p.size)}</td>
                        <td><button type="button" class="choose" onClick={() => setSelected({ vm: vm.vmName, point: p.id })} aria-pressed={sel?.id === p.id}>{account.CanRestoreVms ? 'Restore…' : 'Details'}</button></td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
              {sel && account.CanRestoreVms && <VmRestoreForm vm={vm} point={sel} onClose={() => setSelected(undefined)} />}
              {sel && !account.CanRestoreVms && <p class="muted">Your role does not grant entire VM restore.</p>}
            </li>
          );
        })}
      </ul>
    </section>
  );
}
