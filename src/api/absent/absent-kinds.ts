import type { ResourceKind } from '../inventory/resource-kind.js';

/**
 * Enterprise Manager collections for what openem does not do — replication, CDP, agents, file shares, Cloud
 * Connect, WAN acceleration, failover plans (em13/ get_*.md). Monitoring tools walk them all on every run and
 * stop at a 404 (em-clients.md "Monitoring"), so each answers with EM's empty list in both formats and both
 * forms, and its query type with an empty QueryResult. Nothing here is ever listed: openem has none of them.
 */
export interface AbsentCollection {
  /** Path under /api. */
  collection: string;
  /** The entity type; references are `<type>Reference`. */
  type: string;
  /** The plural element of the entity list (`?format=Entity`). */
  entityList: string;
  /** Also a query type (get_query_*.md) answered empty. */
  queryType?: boolean;
}

export const ABSENT_COLLECTIONS: AbsentCollection[] = [
  { collection: '/replicas', type: 'Replica', entityList: 'Replicas', queryType: true },
  { collection: '/replicaSessions', type: 'ReplicaJobSession', entityList: 'ReplicaJobSessions', queryType: true },
  { collection: '/replicaTaskSessions', type: 'ReplicaTaskSession', entityList: 'ReplicaTaskSessions', queryType: true },
  { collection: '/vmReplicaPoints', type: 'VmReplicaPoint', entityList: 'VmReplicaPoints', queryType: true },
  { collection: '/vAppRestorePoints', type: 'VAppRestorePoint', entityList: 'VAppRestorePoints', queryType: true },
  { collection: '/vAppReplicaPoints', type: 'VAppReplicaPoint', entityList: 'VAppReplicaPoints', queryType: true },
  { collection: '/failoverPlans', type: 'FailoverPlan', entityList: 'FailoverPlans', queryType: true },
  { collection: '/wanAccelerators', type: 'WanAccelerator', entityList: 'WanAccelerators', queryType: true },
  { collection: '/externalRepositories', type: 'ExternalRepository', entityList: 'ExternalRepositories' },
  { collection: '/cdpPolicies', type: 'CdpPolicy', entityList: 'CdpPolicies', queryType: true },
  { collection: '/cdpReplicas', type: 'CdpReplica', entityList: 'CdpReplicas', queryType: true },
  { collection: '/cdpReplicaSessions', type: 'CdpReplicaSession', entityList: 'CdpReplicaSessions', queryType: true },
  { collection: '/cdpReplicaTaskSessions', type: 'CdpReplicaTaskSession', entityList: 'CdpReplicaTaskSessions', queryType: true },
  { collection: '/agents/discoveredComputers', type: 'DiscoveredComputer', entityList: 'DiscoveredComputers', queryType: true },
  { collection: '/agents/jobs', type: 'AgentBackupJob', entityList: 'AgentBackupJobs', queryType: true },
  { collection: '/agents/protectionGroups', type: 'AgentProtectionGroup', entityList: 'AgentProtectionGroups', queryType: true },
  { collection: '/agents/agentRestorePoints', type: 'AgentRestorePoint', entityList: 'AgentRestorePoints', queryType: true },
  // Agent and file share backups, points and sessions are the agent/NAS subsets of EM's ordinary types.
  { collection: '/agents/backups', type: 'Backup', entityList: 'Backups' },
  { collection: '/agents/restorePoints', type: 'RestorePoint', entityList: 'RestorePoints' },
  { collection: '/agents/backupFiles', type: 'BackupFile', entityList: 'BackupFiles' },
  { collection: '/agents/backupSessions', type: 'BackupJobSession', entityList: 'BackupJobSessions' },
  { collection: '/nas/jobs', type: 'NasJob', entityList: 'NasJobs', queryType: true },
  { collection: '/nas/fileServers', type: 'FileServer', entityList: 'FileServers', queryType: true },
  { collection: '/nas/backupSessions', type: 'BackupJobSession', entityList: 'BackupJobSessions' },
  { collection: '/cloud/tenants', type: 'CloudTenant', entityList: 'CloudTenants', queryType: true },
  { collection: '/cloud/gateways', type: 'CloudGateway', entityList: 'CloudGateways', queryType: true },
  { collection: '/cloud/gatewayPools', type: 'CloudGatewayPool', entityList: 'CloudGatewayPools', queryType: true },
  { collection: '/cloud/hardwarePlans', type: 'CloudHardwarePlan', entityList: 'CloudHardwarePlans', queryType: true },
  { collection: '/cloud/publicIpAddresses', type: 'CloudPublicIpAddress', entityList: 'CloudPublicIpAddresses', queryType: true },
  { collection: '/cloud/vlans', type: 'VlanConfiguration', entityList: 'VlanConfigurations', queryType: true },
  { collection: '/cloud/replicas', type: 'CloudReplica', entityList: 'CloudReplicas', queryType: true },
  { collection: '/cloud/vmReplicaPoints', type: 'CloudVmReplicaPoint', entityList: 'CloudVmReplicaPoints', queryType: true },
  { collection: '/cloud/cloudFailoverPlans', type: 'CloudFailoverPlan', entityList: 'CloudFailoverPlans', queryType: true },
  { collection: '/cloud/failoverSessions', type: 'CloudFailoverSession', entityList: 'CloudFailoverSessions', queryType: true },
  { collection: '/vCloud/orgConfigs', type: 'VCloudOrganizationConfig', entityList: 'VCloudOrganizationConfigs', queryType: true },
];

/**
 * Query types EM documents that have no collection of their own here (get_query_cloudsubtenant.md,
 * get_query_nasobject.md, get_query_objectinagentbackuplob.md, get_query_vsphereselfserviceconfig.md).
 */
const ABSENT_QUERY_ONLY: AbsentCollection[] = [
  { collection: '/cloud/tenants', type: 'CloudSubtenant', entityList: 'CloudSubtenants', queryType: true },
  { collection: '/nas/jobs', type: 'NasObject', entityList: 'NasObjects', queryType: true },
  { collection: '/agents/jobs', type: 'ObjectInAgentBackupJob', entityList: 'ObjectInAgentBackupJobs', queryType: true },
  { collection: '/selfService/vSphere/Configs', type: 'VsphereSelfServiceConfig', entityList: 'VsphereSelfServiceConfigs', queryType: true },
];

/** A kind with nothing in it: lists are empty and every `{ID}` is unknown. */
export function absentKind(c: AbsentCollection): ResourceKind<never> {
  return {
    type: c.type,
    collection: c.collection,
    entityList: c.entityList,
    list: async () => [],
    find: async () => undefined,
    id: () => '',
    name: () => '',
    refLinks: () => [],
    entity: () => ({ links: [], children: [] }),
    fields: () => ({}),
  };
}

export const ABSENT_QUERY_KINDS: ResourceKind<never>[] = [...ABSENT_COLLECTIONS, ...ABSENT_QUERY_ONLY].filter((c) => c.queryType).map(absentKind);
