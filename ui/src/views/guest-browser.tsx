import { useEffect, useState } from 'preact/hooks';
import type { Account } from '../account.js';
import { call, get, link, local, message, type Task } from '../api/client.js';
import { guestPathToUrl } from '../../../src/api/guest-path-url.js';
import { crumbsOf, volumePath } from '../api/guest-url.js';
import { ConfirmDialog } from '../confirm-dialog.js';
import { bytes, utc } from '../format.js';
import { go } from '../route.js';
import { OverwriteChoice } from './catalog-search.js';
import { openMount, type DirectoryEntry, type FileEntry, type Listing, type Mount } from './guest-mount.js';
import { watchRestore } from './restore-session-watch.js';

/** Entries per page: a 10,000-entry folder is 20 pages the server cuts, never one 10,000-row table. */
export const PAGE_SIZE = 500;

type Entry = DirectoryEntry | FileEntry;

/** A volume's root as a guest path: `C:/` when the server lists it below a drive letter (`.../mounts/1/C:/%2F`), else `/`. */
function rootPathOf(root: DirectoryEntry): string {
  const m = /\/mounts\/\d+\/([A-Za-z]):\//.exec(root.Href ?? '');
  return m ? `${m[1].toUpperCase()}:/` : '/';
}

/**
 * A restore point's guest file system through a mount (seed 002): volumes, breadcrumbs, a page of a folder at a
 * time; download a file or folder (a tar), restore one to its original location after a confirmation.
 */
export function GuestBrowser({ account, pointId, vmName, pointName, path, select }: { account: Account; pointId: string; vmName: string; pointName: string; path: string; select?: string }) {
  const [mount, setMount] = useState<Mount | undefined>();
  const [listing, setListing] = useState<Listing | undefined>();
  const [page, setPage] = useState(1);
  const [error, setError] = useState('');
  const [restoring, setRestoring] = useState<Entry | undefined>();
  const [overwrite, setOverwrite] = useState(true);
  const [status, setStatus] = useState('');

  useEffect(() => {
    setMount(undefined);
    setError('');
    setStatus('Mounting the restore point…');
    openMount(pointId).then((m) => { setMount(m); setStatus(''); }, (e) => { setError(message(e)); setStatus(''); });
  }, [pointId]);

  // A Windows guest has a volume per drive letter; the path names its volume (`C:/Users`), else the first root's.
  // Entries give their Path within the volume (`/Users`): the drive comes from the volume the page is in.
  const roots = mount?.FSRoots ?? [];
  const current = path || (roots[0] ? rootPathOf(roots[0]) : '/');
  const drive = /^([A-Za-z]):/.exec(current)?.[0] ?? '';
  useEffect(() => setPage(1), [pointId, current]);
  useEffect(() => {
    if (!mount) return;
    setListing(undefined);
    get<Listing>(`${mount.Href}/${guestPathToUrl(current)}?action=listAll&pageSize=${PAGE_SIZE}&page=${page}`).then(setListing, (e) => setError(message(e)));
  }, [mount, current, page]);

  useEffect(() => {
    if (!select || !listing) return;
    document.querySelector<HTMLElement>(`[data-name="${CSS.escape(select)}"] .entry-name`)?.focus();
  }, [listing, select]);

  const open = (p: string) => go('files', { point: pointId, path: p });
  const restore = async () => {
    const e = restoring!;
    const where = volumePath(e.Path, drive);
    setRestoring(undefined);
    setStatus(`Restoring ${where} to VM ${vmName}…`);
    try {
      const task = await call<Task>('POST', link(e, 'Restore')!.Href, { ToOriginalLocation: { Overwrite: overwrite } });
      const s = await watchRestore(task, (s) => setStatus(`Restoring ${where} to VM ${vmName}: ${s.State} ${s.Progress}%`));
      setStatus(s ? `Restore of ${where} to VM ${vmName}: ${s.Result}${s.FailureMessage ? ` — ${s.FailureMessage}` : ''}` : `Restore of ${where} to VM ${vmName} finished`);
    } catch (err) {
      setStatus(`Restore of ${where} to VM ${vmName} refused: ${message(err)}`);
    }
  };
  const unmount = async () => {
    const del = link(mount, 'Delete');
    if (del) await call('DELETE', del.Href).catch((e) => setError(message(e)));
    go('files');
  };

  const entries: Entry[] = [...(listing?.Directories ?? []), ...(listing?.Files ?? [])];
  const pages = listing?.PagingInfo.PagesCount ?? 1;
  return (
    <section class="card" aria-labelledby="browse-title">
      <div class="view-head">
        <h2 id="browse-title">{vmName} <span class="muted">· {pointName}</span></h2>
        <div class="actions">
          {roots.length > 1 && (
            <label class="inline">Volume
              <select id="volume" value={crumbsOf(current)[0].path} onChange={(e) => open(e.currentTarget.value)}>
                {roots.map((r) => <option value={rootPathOf(r)}>{crumbsOf(rootPathOf(r))[0].name}</option>)}
              </select>
            </label>
          )}
          {mount && <button type="button" id="unmount" onClick={unmount}>Close (unmount)</button>}
        </div>
      </div>
      <nav aria-label="Folder" class="breadcrumbs" id="breadcrumbs">
        <ol>
          {crumbsOf(current).map((c, i, all) => (
            <li>{i === all.length - 1 ? <span aria-current="location">{c.name}</span> : <a href={`#/files?point=${encodeURIComponent(pointId)}&path=${encodeURIComponent(c.path)}`}>{c.name}</a>}</li>
          ))}
        </ol>
      </nav>
      {error && <p class="error" role="alert">{error}</p>}
      <p class="status" role="status" id="browse-status">{status}</p>
      {mount && !listing && !error && <p class="muted">Reading the folder…</p>}
      {listing && (
        <>
          <div class="table-wrap">
            <table class="entries" id="entries">
              <thead><tr><th>Name</th><th>Size</th><th class="wide-only">Modified (UTC)</th><th class="wide-only">Owner</th><th><span class="sr-only">Actions</span></th></tr></thead>
              <tbody>
                {entries.length === 0 && <tr><td colSpan={5} class="muted">This folder is empty.</td></tr>}
                {entries.map((e) => {
                  const isDir = e.Type === 'DirectoryEntry';
                  const download = link(e, 'Download');
                  return (
                    <tr data-name={e.Name} data-path={volumePath(e.Path, drive)} class={select === e.Name ? 'selected' : ''}>
                      <td>
                        {isDir ? (
                          <a class="entry-name dir" href={`#/files?point=${encodeURIComponent(pointId)}&path=${encodeURIComponent(volumePath(e.Path, drive))}`}><span class="icon dir" aria-hidden="true" />{e.Name}</a>
                        ) : (
                          <span class="entry-name file" tabIndex={-1}><span class="icon file" aria-hidden="true" />{e.Name}</span>
                        )}
                      </td>
                      <td>{isDir ? '' : bytes((e as FileEntry).Size)}</td>
                      <td class="wide-only">{isDir ? '' : utc((e as FileEntry).ModifiedDateUTC)}</td>
                      <td class="wide-only">{isDir ? '' : (e as FileEntry).Owner ?? ''}</td>
                      <td><div class="row-actions">
                        {download && <a class="button download" href={local(download.Href)} download aria-label={`Download ${e.Name}${isDir ? ' as a tar archive' : ''}`}>Download</a>}
                        {account.CanRestoreFiles && link(e, 'Restore') && <button type="button" class="restore-entry" onClick={() => setRestoring(e)} aria-label={`Restore ${e.Name}`}>Restore…</button>}
                      </div></td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
          <nav class="pager" aria-label="Pages">
            <button type="button" id="page-first" disabled={page <= 1} onClick={() => setPage(1)}>First</button>
            <button type="button" id="page-prev" disabled={page <= 1} onClick={() => setPage(page - 1)}>Previous</button>
            <span id="page-info">Page {listing.PagingInfo.PageNum} of {pages}</span>
            <button type="button" id="page-next" disabled={page >= pages} onClick={() => setPage(page + 1)}>Next</button>
            <button type="button" id="page-last" disabled={page >= pages} onClick={() => setPage(pages)}>Last</button>
          </nav>
        </>
      )}
      <ConfirmDialog open={!!restoring} title={`Restore to VM ${vmName}?`} confirmLabel="Restore" danger={overwrite} onConfirm={restore} onCancel={() => setRestoring(undefined)}>
        <p>Restore <strong class="path">{restoring && volumePath(restoring.Path, drive)}</strong> from {pointName} to its original location in VM <strong>{vmName}</strong>.</p>
        <OverwriteChoice id="browse-overwrite" overwrite={overwrite} setOverwrite={setOverwrite} />
      </ConfirmDialog>
    </section>
  );
}
