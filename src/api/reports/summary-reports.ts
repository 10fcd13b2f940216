import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../api-context.js';
import { apiBase, sendWire } from '../negotiate.js';
import { el, links, list, text } from '../wire/wire-node.js';
import { isoUtc } from '../inventory/em-dates.js';
import { jobStatisticsFigures, overviewFigures, processedVmsFigures, vmsOverviewFigures } from '../../services/monitoring/summary-figures.js';
import { theRepository } from '../infrastructure/repository-kind.js';
import { isAdmin } from '../../services/auth/access.js';
import { forbidden } from '../../errors.js';

const REPORTS = [
  ['overview', 'OverviewReportFrame'],
  ['vms_overview', 'VmsOverviewReportFrame'],
  ['job_statistics', 'JobStatisticsReportFrame'],
  ['processed_vms', 'ProcessedVmsReportFrame'],
  ['repository', 'RepositoryReportFrame'],
] as const;

/** A report frame is a resource (`Href`, `Type`) with the XSD's children in order (RestAPI.xsd "statistics and reports"). */
const frame = (base: string, path: string, type: string, children: Parameters<typeof el>[2], attrs: [string, string][] = []) =>
  el(type, [['Href', `${base}/reports/summary/${path}`], ['Type', type], ...attrs], children);

/**
 * `/reports/summary` and its five reports (reports_summary*.md; element names and order from RestAPI.xsd, EM's own
 * spelling kept: `SuccessfulVmLastestStates`, `WarningsJobRuns`, `BackupedVms`), computed from the store and the
 * repository on every call. Where EM links to a report page of its web UI, openem links to the API list it is made of.
 */
export function summaryReportsPlugin(ctx: ApiContext) {
  return async function (app: FastifyInstance) {
    // The reports count every VM, job and run of the deployment: they are for Portal Administrators, whose view has no scope.
    app.addHook('preHandler', async (request) => {
      if (!isAdmin(request.principal!)) throw forbidden('Only a Portal Administrator may read the summary reports');
    });
    app.get('/api/reports/summary', { schema: { summary: 'Links to the summary reports' } }, async (request, reply) => {
      const base = apiBase(request);
      return sendWire(request, reply, 200, el('SummaryReport', [['Href', `${base}/reports/summary`], ['Type', 'SummaryReport']], [
        links(REPORTS.map(([path, type]) => ({ rel: 'Down', type, href: `${base}/reports/summary/${path}` }))),
      ]));
    });

    app.get('/api/reports/summary/overview', { schema: { summary: 'Backup infrastructure and latest VM backup states' } }, async (request, reply) => {
      const f = await overviewFigures(ctx);
      return sendWire(request, reply, 200, frame(apiBase(request), 'overview', 'OverviewReportFrame', [
        text('BackupServers', f.backupServers),
        text('ProxyServers', f.proxyServers),
        text('RepositoryServers', f.repositoryServers),
        text('RunningJobs', f.runningJobs),
        text('ScheduledJobs', f.scheduledJobs),
        text('SuccessfulVmLastestStates', f.successfulVms),
        text('WarningVmLastestStates', f.warningVms),
        text('FailedVmLastestStates', f.failedVms),
      ]));
    });

    app.get('/api/reports/summary/vms_overview', { schema: { summary: 'Protected VMs, restore points and their sizes' } }, async (request, reply) => {
      const f = await vmsOverviewFigures(ctx);
      const base = apiBase(request);
      return sendWire(request, reply, 200, frame(base, 'vms_overview', 'VmsOverviewReportFrame', [
        text('ProtectedVms', f.protectedVms),
        text('BackedUpVms', f.backedUpVms),
        text('ReplicatedVms', f.replicatedVms),
        text('RestorePoints', f.restorePoints),
        text('FullBackupPointsSize', f.fullBackupPointsSize),
        text('IncrementalBackupPointsSize', f.incrementalBackupPointsSize),
        text('ReplicaRestorePointsSize', f.replicaRestorePointsSize),
        text('SourceVmsSize', f.sourceVmsSize),
        text('SuccessBackupPercents', f.successBackupPercents),
        text('ProtectedVmsReportLink', `${base}/vmRestorePoints?format=Entity`),
      ]));
    });

    app.get('/api/reports/summary/job_statistics', { schema: { summary: 'Job runs by result and the longest run' } }, async (request, reply) => {
      const f = await jobStatisticsFigures(ctx);
      const base = apiBase(request);
      return sendWire(request, reply, 200, frame(base, 'job_statistics', 'JobStatisticsReportFrame', [
        text('RunningJobs', f.runningJobs),
        text('ScheduledJobs', f.scheduledJobs),
        text('ScheduledBackupJobs', f.scheduledBackupJobs),
        text('ScheduledReplicaJobs', f.scheduledReplicaJobs),
        text('TotalJobRuns', f.totalJobRuns),
        text('SuccessfulJobRuns', f.successfulJobRuns),
        text('WarningsJobRuns', f.warningsJobRuns),
        text('FailedJobRuns', f.failedJobRuns),
        text('MaxJobDuration', f.maxJobDuration),
        text('MaxBackupJobDuration', f.maxBackupJobDuration),
        text('MaxReplicaJobDuration', f.maxReplicaJobDuration),
        text('MaxDurationBackupJobName', f.maxDurationBackupJobName),
        text('MaxDurationReplicaJobName', f.maxDurationReplicaJobName),
        text('BackupJobStatusReportLink', `${base}/backupSessions?format=Entity`),
      ]));
    });

    app.get('/api/reports/summary/processed_vms', { schema: { summary: 'VMs backed up per day, last 7 days' } }, async (request, reply) => {
      const days = await processedVmsFigures(ctx);
      return sendWire(request, reply, 200, frame(apiBase(request), 'processed_vms', 'ProcessedVmsReportFrame', [
        list(null, 'Days', days.map((d) => el('Day', [['Timestamp', isoUtc(d.day)], ['ReplicatedVms', d.replicatedVms], ['BackupedVms', d.backedUpVms]]))),
      ]));
    });

    app.get('/api/reports/summary/repository', { schema: { summary: 'Capacity, free space and backup size of each repository' } }, async (request, reply) => {
      const r = await theRepository(ctx);
      const base = apiBase(request);
      return sendWire(request, reply, 200, frame(base, 'repository', 'RepositoryReportFrame', [
        list(null, 'Periods', [el('Period', [], [text('Name', r.name), text('Capacity', r.capacity), text('FreeSpace', r.freeSpace), text('BackupSize', r.backupSize)])]),
      ], [['CapacityPlanningReportLink', `${base}/repositories?format=Entity`]]));
    });
  };
}
