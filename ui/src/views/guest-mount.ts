import { api, call, get, link, waitForTask, type Linked, type Task } from '../api/client.js';

export interface DirectoryEntry extends Linked {
  Path: string;
  Name: string;
  Type: 'DirectoryEntry';
}
export interface FileEntry extends Linked {
  Path: string;
  Name: string;
  Size: number;
  Owner?: string;
  ModifiedDateUTC: string;
  Type: 'FileEntry';
}
export interface Listing extends Linked {
  Files?: FileEntry[];
  Directories?: DirectoryEntry[];
  PagingInfo: { PageNum: number; PageSize: number; PagesCount: number };
}
export interface Mount extends Linked {
  Href: string;
  FSRoots: DirectoryEntry[];
}

/**
 * The caller's mount of a restore point (seed 002): an existing one of theirs, else a new one, waited for. The
 * guest's OS is left to the server to detect (no OsKind), so Linux and Windows points mount alike.
 */
export async function openMount(pointId: string): Promise<Mount> {
  const existing = await get(api(`/vmRestorePoints/${pointId}/mounts`));
  const mine = (existing.VmRestorePointMounts ?? [])[0] as Mount | undefined;
  if (mine) return mine;
  const task = await waitForTask(await call<Task>('POST', api(`/vmRestorePoints/${pointId}/mounts`)));
  const made = link(task, 'Related', 'VmRestorePointMount');
  if (!made) throw new Error('The mount task finished without a mount');
  return get<Mount>(made.Href);
}
