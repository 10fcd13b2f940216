import type { AreaPlugin } from './build-api.js';
import { collectionPlugin } from './inventory/collections.js';
import { backupServerKind, hierarchyRootKind } from './inventory/server-kinds.js';
import { backupKind, jobKind, restorePointKind } from './inventory/backup-kinds.js';
import { vmRestorePointKind } from './inventory/vm-restore-point-kind.js';
import { nestedCollectionsPlugin } from './inventory/nested-collections.js';
import { jobIncludesPlugin } from './inventory/job-includes.js';
import { backupServerCollectionsPlugin } from './inventory/backup-server-collections.js';
import { queryPlugin } from './query/query.js';
import { jobsStartPlugin } from './jobs-start.js';
import { catalogVmsPlugin } from './catalog-vms.js';
import { vmRestorePlugin } from './vm-restore.js';
import { tasksPlugin } from './tasks.js';
import { restoreSessionsPlugin } from './restore-sessions.js';
import { mountsPlugin } from './mounts.js';
import { catalogGuestFsPlugin } from './catalog-guestfs.js';
import { backupJobSessionKind, backupTaskSessionKind } from './backup-sessions/backup-session-kinds.js';
import { backupSessionsPlugin } from './backup-sessions/backup-sessions.js';
import { repositoryKind } from './infrastructure/repository-kind.js';
import { managedServerKind } from './infrastructure/managed-server-kind.js';
import { backupFileKind } from './backup-files/backup-file-kind.js';
import { backupFileCollectionsPlugin } from './backup-files/backup-file-collections.js';
import { summaryReportsPlugin } from './reports/summary-reports.js';
import { lookupPlugin } from './lookup/lookup-svc.js';
import { currentAccountPlugin } from './openem/current-account.js';
import { absentCollectionsPlugin } from './absent/absent-collections.js';

/** Every Enterprise Manager API area openem serves beyond the entry point and logon, in registration order. */
export const API_AREAS: AreaPlugin[] = [
  collectionPlugin(backupServerKind),
  collectionPlugin(hierarchyRootKind),
  collectionPlugin(jobKind),
  collectionPlugin(backupKind),
  collectionPlugin(restorePointKind),
  collectionPlugin(vmRestorePointKind),
  nestedCollectionsPlugin,
  jobIncludesPlugin,
  backupServerCollectionsPlugin,
  queryPlugin,
  jobsStartPlugin,
  catalogVmsPlugin,
  vmRestorePlugin, tasksPlugin, restoreSessionsPlugin,
  mountsPlugin, catalogGuestFsPlugin,
  collectionPlugin(backupJobSessionKind), collectionPlugin(backupTaskSessionKind), backupSessionsPlugin,
  collectionPlugin(repositoryKind), collectionPlugin(managedServerKind), collectionPlugin(backupFileKind), backupFileCollectionsPlugin,
  summaryReportsPlugin,
  lookupPlugin,
  currentAccountPlugin,
  absentCollectionsPlugin,
];
