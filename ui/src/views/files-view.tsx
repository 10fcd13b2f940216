import { useEffect, useState } from 'preact/hooks';
import type { Account } from '../account.js';
import { message } from '../api/client.js';
import { utc } from '../format.js';
import { go } from '../route.js';
import { CatalogSearch } from './catalog-search.js';
import { GuestBrowser } from './guest-browser.js';
import { loadVmPoints, type VmPoints } from './vm-points.js';

/** Find a guest file in the catalog, or browse any restore point of a VM in scope. */
export function FilesView({ account, params }: { account: Account; params: URLSearchParams }) {
  const [vms, setVms] = useState<VmPoints[] | undefined>();
  const [error, setError] = useState('');
  const [vm, setVm] = useState('');
  useEffect(() => void loadVmPoints().then(setVms, (e) => setError(message(e))), []);
  const pointId = params.get('point') ?? '';
  const found = vms?.flatMap((v) => v.points.map((p) => ({ vm: v, p }))).find((x) => x.p.id === pointId);
  const chosenVm = vms?.find((v) => v.vmName === (vm || found?.vm.vmName));
  return (
    <div class="stack">
      <h1>Files</h1>
      <CatalogSearch account={account} />
      {!account.CanRestoreFiles && (
        <p class="card muted" id="no-file-restore">Your role does not grant file-level restore: browsing a restore point mounts it, which is file-level restore, so only the catalog search is offered.</p>
      )}
      {account.CanRestoreFiles && (
        <section class="card" aria-labelledby="pick-title">
        <h2 id="pick-title">Browse a restore point</h2>
        {error && <p class="error" role="alert">{error}</p>}
        <form class="search-form" onSubmit={(e) => e.preventDefault()}>
          <label>VM
            <select id="browse-vm" value={chosenVm?.vmName ?? ''} onChange={(e) => setVm(e.currentTarget.value)}>
              <option value="">choose a VM</option>
              {(vms ?? []).map((v) => <option value={v.vmName}>{v.vmName}</option>)}
            </select>
          </label>
          <label>Restore point
            <select id="browse-point" value={found?.p.id ?? ''} disabled={!chosenVm} onChange={(e) => go('files', { point: e.currentTarget.value })}>
              <option value="">choose a restore point</option>
              {(chosenVm?.points ?? []).map((p) => <option value={p.id}>{p.PointType} {utc(p.CreationTimeUTC)}</option>)}
            </select>
          </label>
        </form>
      </section>
      )}
      {found && account.CanRestoreFiles && <GuestBrowser account={account} pointId={found.p.id} vmName={found.vm.vmName} pointName={`${found.p.PointType} ${utc(found.p.CreationTimeUTC)}`} path={params.get('path') ?? ''} select={params.get('select') ?? undefined} />}
      {pointId && vms && !found && <p class="error" role="alert">Restore point {pointId} is not among the points you may see.</p>}
    </div>
  );
}
