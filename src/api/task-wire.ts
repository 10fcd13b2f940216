import type { TaskProduct, TaskRecord } from '../tasks/task-types.js';
import { guestPathToUrl } from './guest-path-url.js';
import { el, links, text, type Link, type WireElement } from './wire/wire-node.js';

/**
 * The link to what a task produced, as the pages show it: a VM restore's session (post_vmrestorepoints_id_actionrestore.md,
 * no Name), a file restore's (scenario_1_click_restore.md, "Restore job session"), a mount
 * (post_vmrestorepoints_id_mountpoints.md, Name `<point>@<n>`), and a direct download with Rel="Download", Rel and
 * Href only (post_vmrestorepoints_id_mountpoints_id_filepath_actionrestore.md), and a catalog browse's guest file
 * system, Down FileSystemItemsList to `.../guestfs/` (scenario_1_click_restore.md, the BrowseVM task).
 */
function productLink(base: string, p: TaskProduct): Link {
  switch (p.kind) {
    case 'restoreSession':
      return { rel: 'Related', type: 'RestoreSession', href: `${base}/restoreSessions/${p.sessionId}?format=Entity`, name: p.jobType === 'FileLevelRestore' ? 'Restore job session' : undefined };
    case 'mount':
      return { rel: 'Related', type: 'VmRestorePointMount', href: `${base}/vmRestorePoints/${p.vmRestorePointId}/mounts/${p.mountNumber}`, name: `${p.vmRestorePointId}@${p.mountNumber}` };
    case 'download':
      return { rel: 'Download', href: `${base}/vmRestorePoints/${p.vmRestorePointId}/mounts/${p.mountNumber}/${guestPathToUrl(p.guestPath)}?action=download` };
    case 'catalogGuestFs':
      return { rel: 'Down', type: 'FileSystemItemsList', href: `${base}/catalog/vms/${encodeURIComponent(p.vmName)}/vmRestorePoints/${p.vmRestorePointId}/guestfs/` };
    case 'link':
      return p.type === 'Download' ? { rel: 'Download', href: `${base}${p.path}` } : { rel: 'Related', type: p.type, href: `${base}${p.path}`, name: p.name };
  }
}

/**
 * `<Task Type="Task" Href>`: Links (Delete always; Related once the work produced something), TaskId,
 * State, Operation, Result (seed 001, seed 003, em-api.md "tasks").
 */
export function taskElement(base: string, t: TaskRecord): WireElement {
  const self = `${base}/tasks/${t.taskId}`;
  const l: Link[] = [{ rel: 'Delete', type: 'Task', href: self }];
  if (t.related) l.push(productLink(base, t.related));
  const result =
    t.state === 'Finished'
      ? el('Result', [['Success', t.success === true]], t.message ? [text('Message', t.message)] : [])
      : undefined;
  return el('Task', [['Type', 'Task'], ['Href', self]], [links(l), text('TaskId', t.taskId), text('State', t.state), text('Operation', t.operation), result]);
}
