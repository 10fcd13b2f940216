import { useEffect, useState } from 'preact/hooks';
import type { Account } from '../account.js';
import { api, call, get, link, message, type Task } from '../api/client.js';
import { ConfirmDialog } from '../confirm-dialog.js';
import { bytes, lastSegment, utc } from '../format.js';
import { go } from '../route.js';
import { parentOf } from '../api/guest-url.js';
import { watchRestore } from './restore-session-watch.js';

interface CatalogFile {
  Path: string;
  Name: string;
  Type: string;
  Size: number;
  ModifiedDateUTC: string;
  VmName: string;
  Links: { Rel: string; Href: string; Name?: string; Type?: string }[];
}

interface Criteria {
  name: string;
  vm: string;
  path: string;
  from: string;
  to: string;
}

/** The restore point a hit was found in: its name (`vm@yyyy-MM-dd HH:mm:ss`) and id. */
const pointOf = (f: CatalogFile) => {
  const related = link(f, 'Related', 'CatalogVmRestorePointReference');
  return { name: related?.Name ?? '', id: related ? lastSegment(related.Href) : '' };
};

/**
 * The guest-file catalog across every indexed restore point the caller may see: by name (`*` wildcards) and VM in
 * the API (`/catalog/search`), then by folder and by the point's date here, over the at most 1,000 hits it returns.
 */
export function CatalogSearch({ account }: { account: Account }) {
  const [c, setC] = useState<Criteria>({ name: '', vm: '', path: '', from: '', to: '' });
  const [vms, setVms] = useState<string[]>([]);
  const [hits, setHits] = useState<CatalogFile[] | undefined>();
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const [restoring, setRestoring] = useState<CatalogFile | undefined>();
  const [overwrite, setOverwrite] = useState(true);
  const [status, setStatus] = useState('');
  const set = (patch: Partial<Criteria>) => setC({ ...c, ...patch });

  useEffect(() => {
    get(api('/catalog/vms')).then((r) => setVms((r.Refs ?? []).map((v: { Name: string }) => v.Name)), () => setVms([]));
  }, []);

  const search = async (ev: Event) => {
    ev.preventDefault();
    setError('');
    setBusy(true);
    try {
      const q = new URLSearchParams({ name: c.name.trim() });
      if (c.vm) q.set('vm', c.vm);
      const r = await get(api(`/catalog/search?${q}`));
      const from = c.from ? Date.parse(`${c.from}T00:00:00Z`) : -Infinity;
      const to = c.to ? Date.parse(`${c.to}T23:59:59Z`) : Infinity;
      const folder = c.path.trim().toLowerCase();
      setHits(
        ((r.CatalogFiles ?? []) as CatalogFile[]).filter((f) => {
          const at = Date.parse(pointOf(f).name.replace(/^.*@/, '').replace(' ', 'T') + 'Z');
          return (!folder || f.Path.toLowerCase().includes(folder)) && (Number.isNaN(at) || (at >= from && at <= to));
        }),
      );
    } catch (e) {
      setError(message(e));
      setHits(undefined);
    } finally {
      setBusy(false);
    }
  };

  const restore = async () => {
    const f = restoring!;
    setRestoring(undefined);
    setStatus(`Restoring ${f.Path} to VM ${f.VmName}…`);
    try {
      const task = await call<Task>('POST', link(f, 'Restore')!.Href, { ToOriginalLocation: { Overwrite: overwrite } });
      const s = await watchRestore(task, (s) => setStatus(`Restoring ${f.Path} to VM ${f.VmName}: ${s.State} ${s.Progress}%`));
      setStatus(s ? `Restore of ${f.Path} to VM ${f.VmName}: ${s.Result}${s.FailureMessage ? ` — ${s.FailureMessage}` : ''}` : `Restore of ${f.Path} to VM ${f.VmName} finished`);
    } catch (e) {
      setStatus(`Restore of ${f.Path} to VM ${f.VmName} refused: ${message(e)}`);
    }
  };

  return (
    <section class="card" aria-labelledby="search-title">
      <h2 id="search-title">Find a file</h2>
      <form class="search-form" id="catalog-search" onSubmit={search}>
        <label>Name <input id="search-name" required placeholder="e.g. motd or *.conf" value={c.name} onInput={(e) => set({ name: e.currentTarget.value })} /></label>
        <label>VM
          <select id="search-vm" value={c.vm} onChange={(e) => set({ vm: e.currentTarget.value })}>
            <option value="">all VMs</option>
            {vms.map((v) => <option value={v}>{v}</option>)}
          </select>
        </label>
        <label>Path contains <input id="search-path" placeholder="/etc" value={c.path} onInput={(e) => set({ path: e.currentTarget.value })} /></label>
        <label>From <input id="search-from" type="date" value={c.from} onInput={(e) => set({ from: e.currentTarget.value })} /></label>
        <label>To <input id="search-to" type="date" value={c.to} onInput={(e) => set({ to: e.currentTarget.value })} /></label>
        <button type="submit" class="primary" disabled={busy}>{busy ? 'Searching…' : 'Search'}</button>
      </form>
      {error && <p class="error" role="alert">{error}</p>}
      <p class="status" role="status" id="search-status">{status}</p>
      {hits && (
        <div class="table-wrap">
          <table id="search-results" class="entries">
            <caption class="muted">{hits.length} file{hits.length === 1 ? '' : 's'} found</caption>
            <thead><tr><th>Name</th><th>Path</th><th>VM</th><th class="wide-only">Restore point</th><th>Size</th><th class="wide-only">Modified (UTC)</th><th><span class="sr-only">Actions</span></th></tr></thead>
            <tbody>
              {hits.map((f) => {
                const p = pointOf(f);
                return (
                  <tr data-path={f.Path} data-point={p.id}>
                    <td>{f.Name}</td>
                    <td class="path">{f.Path}</td>
                    <td>{f.VmName}</td>
                    <td class="wide-only">{p.name}</td>
                    <td>{f.Type === 'dir' ? 'folder' : bytes(f.Size)}</td>
                    <td class="wide-only">{utc(f.ModifiedDateUTC)}</td>
                    <td><div class="row-actions">
                      {account.CanRestoreFiles && <button type="button" class="open-in-point" onClick={() => go('files', { point: p.id, path: parentOf(f.Path), select: f.Name })}>Show in restore point</button>}
                      {account.CanRestoreFiles && link(f, 'Restore') && <button type="button" class="restore-hit" onClick={() => setRestoring(f)}>Restore…</button>}
                    </div></td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      <ConfirmDialog open={!!restoring} title={`Restore to VM ${restoring?.VmName ?? ''}?`} confirmLabel="Restore" danger={overwrite} onConfirm={restore} onCancel={() => setRestoring(undefined)}>
        <p>Restore <strong class="path">{restoring?.Path}</strong> from {restoring && pointOf(restoring).name} to its original location in VM <strong>{restoring?.VmName}</strong>.</p>
        <OverwriteChoice id="search-overwrite" overwrite={overwrite} setOverwrite={setOverwrite} />
      </ConfirmDialog>
    </section>
  );
}

/** Overwrite or keep both; `id` names this choice's radio group (two dialogs on one page must not share one). */
export function OverwriteChoice({ id, overwrite, setOverwrite }: { id: string; overwrite: boolean; setOverwrite: (v: boolean) => void }) {
  return (
    <fieldset class="choice">
      <legend>If it exists in the VM</legend>
      <label class="check"><input type="radio" name={id} id={`${id}-yes`} checked={overwrite} onChange={() => setOverwrite(true)} /> Overwrite it</label>
      <label class="check"><input type="radio" name={id} id={`${id}-no`} checked={!overwrite} onChange={() => setOverwrite(false)} /> Keep both (the restored copy gets a new name)</label>
    </fieldset>
  );
}
