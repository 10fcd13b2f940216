import type { RestoreSessionRecord } from '../tasks/task-types.js';
import { el, links, list, text, type Link, type WireElement } from './wire/wire-node.js';
import { emTimestamp, isoUtc as utc } from './inventory/em-dates.js';
import type { BaseContext } from '../context.js';
import { findVmRestorePoint } from '../services/inventory/restore-point-records.js';
import { vmRestorePointName } from './inventory/vm-restore-point-kind.js';
import { hierarchyRef } from './lookup/hierarchy-refs.js';
import { OPENEM_TYPES, restoreSessionLogHref, restoreSessionLogLink } from './openem/openem-links.js';

/** The backup server a session ran on (`Up BackupServerReference`, seed 003). */
export interface BackupServerRef {
  id: string;
  name: string;
}


/** A restore session with the name of the VM restore point it restores from, for its `Related` link. */
export type RestoreSessionView = RestoreSessionRecord & { vmRestorePointName?: string };

/** Looks the sessions' VM restore points up once each, for their names (`vm@yyyy-MM-dd HH:mm:ss`). */
export async function withPointNames(ctx: BaseContext, sessions: RestoreSessionRecord[]): Promise<RestoreSessionView[]> {
  const names = new Map<string, string | undefined>();
  for (const id of new Set(sessions.map((s) => s.vmRestorePointId))) {
    const r = await findVmRestorePoint(ctx, id);
    names.set(id, r && vmRestorePointName(r));
  }
  return sessions.map((s) => ({ ...s, vmRestorePointName: names.get(s.vmRestorePointId) }));
}

/** EM's name of a restore session: `vm@yyyy-MM-dd HH:mm:ss`, a file-level one `FLR_[vm]@…` (get_restoresessions_id.md, scenario_1_click_restore.md). */
export function restoreSessionName(s: RestoreSessionRecord): string {
  const at = emTimestamp(s.createdAt);
  return s.jobType === 'FileLevelRestore' ? `FLR_[${s.vmDisplayName}]@${at}` : `${s.vmDisplayName}@${at}`;
}

export const restoreSessionUid = (s: RestoreSessionRecord) => `urn:veeam:RestoreSession:${s.id}`;
export const restoreSessionHref = (base: string, s: RestoreSessionRecord) => `${base}/restoreSessions/${s.id}`;

/**
 * `<Ref|EntityRef Type="RestoreSessionReference" Href Name UID>` with Links `Up` backup server and
 * `Alternate` to the entity (em-api.md §3 collections and single references).
 */
export function restoreSessionRef(base: string, s: RestoreSessionRecord, server: BackupServerRef, elementName: 'Ref' | 'EntityRef' = 'Ref'): WireElement {
  const href = restoreSessionHref(base, s);
  return el(elementName, [['Type', 'RestoreSessionReference'], ['Href', href], ['Name', restoreSessionName(s)], ['UID', restoreSessionUid(s)]], [
    links([
      { rel: 'Up', type: 'BackupServerReference', href: `${base}/backupServers/${server.id}`, name: server.name },
      { rel: 'Alternate', type: 'RestoreSession', href: `${href}?format=Entity`, name: restoreSessionName(s) },
    ]),
  ]);
}

/**
 * `<RestoreSession Type Href Name UID VmDisplayName>` (seed 003, em-api.md §4 restoreSessions): Links, then
 * in XSD order JobType, CreationTimeUTC, EndTimeUTC (once ended), State, Result, Progress, FailureMessage
 * (when failed), RestoredObjRef (when a new VM was made). Enterprise Manager publishes no element for a
 * session's log: it is openem's own resource, linked after EM's links (restoreSessionLogElement).
 */
export function restoreSessionEntity(base: string, s: RestoreSessionView, server: BackupServerRef): WireElement {
  const href = restoreSessionHref(base, s);
  const l: Link[] = [
    { rel: 'Up', type: 'BackupServerReference', href: `${base}/backupServers/${server.id}`, name: server.name },
    { rel: 'Alternate', type: 'RestoreSessionReference', href, name: restoreSessionName(s) },
    { rel: 'Related', type: 'VmRestorePointReference', href: `${base}/vmRestorePoints/${s.vmRestorePointId}`, name: s.vmRestorePointName },
    restoreSessionLogLink(base, s.id),
  ];
  return el(
    'RestoreSession',
    [['Type', 'RestoreSession'], ['Href', `${href}?format=Entity`], ['Name', restoreSessionName(s)], ['UID', restoreSessionUid(s)], ['VmDisplayName', s.vmDisplayName]],
    [
      links(l),
      text('JobType', s.jobType),
      text('CreationTimeUTC', utc(s.createdAt)),
      s.endAt !== undefined && text('EndTimeUTC', utc(s.endAt)),
      text('State', s.state),
      text('Result', s.result),
      text('Progress', s.progress),
      s.failureMessage !== undefined && text('FailureMessage', s.failureMessage),
      // The VM made, written as the lookup and the VM restore points write it (constructing_hierarchyobjreftype.md).
      s.restoredVm !== undefined && text('RestoredObjRef', hierarchyRef(s.restoredVm.platform, 'Vm', s.restoredVm.hierarchyRootId, s.restoredVm.vmId)),
    ],
  );
}

/** `GET /restoreSessions`: EntityReferences of RestoreSessionReference. */
export function restoreSessionReferences(base: string, sessions: RestoreSessionRecord[], server: BackupServerRef): WireElement {
  return el('EntityReferences', [], [list(null, 'Refs', sessions.map((s) => restoreSessionRef(base, s, server)))]);
}

/** `GET /restoreSessions?format=Entity`: `<RestoreSessions>` of RestoreSession. */
export function restoreSessionEntities(base: string, sessions: RestoreSessionView[], server: BackupServerRef): WireElement {
  return el('RestoreSessions', [], [list(null, 'RestoreSessions', sessions.map((s) => restoreSessionEntity(base, s, server)))]);
}

/**
 * openem's `<RestoreSessionLog Type="openem:RestoreSessionLog" Href>`: Links (Up to the session), then `Log` of
 * `LogRecord` (`Time`, `Text`), oldest first. JSON: `{"Log":[{"Time","Text"}],…}`.
 */
export function restoreSessionLogElement(base: string, s: RestoreSessionRecord): WireElement {
  return el('RestoreSessionLog', [['Type', OPENEM_TYPES.restoreSessionLog], ['Href', restoreSessionLogHref(base, s.id)]], [
    links([{ rel: 'Up', type: 'RestoreSession', href: `${restoreSessionHref(base, s)}?format=Entity`, name: restoreSessionName(s) }]),
    list('Log', 'Log', s.log.map((r) => el('LogRecord', [], [text('Time', utc(r.at)), text('Text', r.text)]))),
  ]);
}
