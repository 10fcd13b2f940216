import { type Kysely, type Migration, type MigrationProvider, sql } from 'kysely';

export type Dialect = 'sqlite' | 'postgres';

/** Versioned migrations; the dialect only matters for auto-increment columns. */
export function migrationProvider(dialect: Dialect): MigrationProvider {
  const serial = dialect === 'postgres' ? 'bigserial' : 'integer';
  const bigint = dialect === 'postgres' ? 'bigint' : 'integer';
  const seqColumn = (t: any) =>
    dialect === 'postgres'
      ? t.addColumn('seq', serial, (c: any) => c.primaryKey())
      : t.addColumn('seq', 'integer', (c: any) => c.primaryKey().autoIncrement());

  const m001: Migration = {
    async up(db: Kysely<any>) {
      await db.schema.createTable('meta').addColumn('key', 'text', (c) => c.primaryKey()).addColumn('value', 'text', (c) => c.notNull()).execute();
      await db.schema
        .createTable('accounts')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull().unique())
        .addColumn('password_hash', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('scope', 'text', (c) => c.notNull())
        .addColumn('created_at', bigint, (c) => c.notNull())
        .addColumn('password_changed_at', bigint, (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('logon_sessions')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('token_hash', 'text', (c) => c.notNull().unique())
        .addColumn('account_id', 'text', (c) => c.notNull())
        .addColumn('user_name', 'text', (c) => c.notNull())
        .addColumn('created_at', bigint, (c) => c.notNull())
        .addColumn('last_seen_at', bigint, (c) => c.notNull())
        .addColumn('address', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('jobs')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull().unique())
        .addColumn('vm_names', 'text', (c) => c.notNull())
        .addColumn('created_at', bigint, (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('restore_points')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('job_id', 'text', (c) => c.notNull())
        .addColumn('created_at', bigint, (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('vm_restore_points')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('restore_point_id', 'text', (c) => c.notNull())
        .addColumn('job_id', 'text', (c) => c.notNull())
        .addColumn('vm_id', 'text', (c) => c.notNull())
        .addColumn('vm_name', 'text', (c) => c.notNull())
        .addColumn('platform', 'text', (c) => c.notNull())
        .addColumn('hierarchy_root_id', 'text', (c) => c.notNull())
        .addColumn('created_at', bigint, (c) => c.notNull())
        .addColumn('point_type', 'text', (c) => c.notNull())
        .addColumn('index_state', 'text', (c) => c.notNull())
        .addColumn('index_message', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('catalog_entries')
        .addColumn('vm_restore_point_id', 'text', (c) => c.notNull())
        .addColumn('path', 'text', (c) => c.notNull())
        .addColumn('parent_path', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('size', bigint, (c) => c.notNull())
        .addColumn('mtime', bigint, (c) => c.notNull())
        .addPrimaryKeyConstraint('catalog_entries_pk', ['vm_restore_point_id', 'path'])
        .execute();
      await db.schema.createIndex('catalog_entries_parent').on('catalog_entries').columns(['vm_restore_point_id', 'parent_path']).execute();
      await db.schema.createIndex('catalog_entries_name').on('catalog_entries').column('name').execute();
      await seqColumn(db.schema.createTable('tasks'))
        .addColumn('operation', 'text', (c: any) => c.notNull())
        .addColumn('state', 'text', (c: any) => c.notNull())
        .addColumn('success', 'integer')
        .addColumn('message', 'text')
        .addColumn('related_type', 'text')
        .addColumn('related_path', 'text')
        .addColumn('related_name', 'text')
        .addColumn('account_id', 'text', (c: any) => c.notNull())
        .addColumn('kind', 'text', (c: any) => c.notNull())
        .addColumn('payload', 'text', (c: any) => c.notNull())
        .addColumn('cancel_requested', 'integer', (c: any) => c.notNull())
        .addColumn('node_id', 'text', (c: any) => c.notNull())
        .addColumn('created_at', bigint, (c: any) => c.notNull())
        .addColumn('updated_at', bigint, (c: any) => c.notNull())
        .execute();
      await db.schema
        .createTable('restore_sessions')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('job_type', 'text', (c) => c.notNull())
        .addColumn('vm_display_name', 'text', (c) => c.notNull())
        .addColumn('vm_restore_point_id', 'text', (c) => c.notNull())
        .addColumn('account_id', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('result', 'text', (c) => c.notNull())
        .addColumn('progress', 'integer', (c) => c.notNull())
        .addColumn('failure_message', 'text')
        .addColumn('log', 'text', (c) => c.notNull())
        .addColumn('restored_obj_ref', 'text')
        .addColumn('node_id', 'text', (c) => c.notNull())
        .addColumn('heartbeat_at', bigint, (c) => c.notNull())
        .addColumn('created_at', bigint, (c) => c.notNull())
        .addColumn('end_at', bigint)
        .execute();
      await db.schema
        .createTable('mounts')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('vm_restore_point_id', 'text', (c) => c.notNull())
        .addColumn('number', 'integer', (c) => c.notNull())
        .addColumn('os_kind', 'text', (c) => c.notNull())
        .addColumn('account_id', 'text', (c) => c.notNull())
        .addColumn('node_id', 'text', (c) => c.notNull())
        .addColumn('folder', 'text')
        .addColumn('created_at', bigint, (c) => c.notNull())
        .addColumn('last_used_at', bigint, (c) => c.notNull())
        .addUniqueConstraint('mounts_rp_number', ['vm_restore_point_id', 'number'])
        .execute();
      await seqColumn(db.schema.createTable('audit'))
        .addColumn('at', bigint, (c: any) => c.notNull())
        .addColumn('user_name', 'text', (c: any) => c.notNull())
        .addColumn('address', 'text', (c: any) => c.notNull())
        .addColumn('action', 'text', (c: any) => c.notNull())
        .addColumn('target', 'text', (c: any) => c.notNull())
        .addColumn('result', 'text', (c: any) => c.notNull())
        .addColumn('detail', 'text', (c: any) => c.notNull())
        .execute();
      await sql`select 1`.execute(db);
    },
  };
  const m004: Migration = {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('backup_job_sessions')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('job_id', 'text', (c) => c.notNull())
        .addColumn('job_name', 'text', (c) => c.notNull())
        .addColumn('job_type', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('result', 'text', (c) => c.notNull())
        .addColumn('progress', 'integer', (c) => c.notNull())
        .addColumn('failure_message', 'text')
        .addColumn('restore_point_id', 'text')
        .addColumn('stop_requested', 'integer', (c) => c.notNull())
        .addColumn('owner', 'text', (c) => c.notNull())
        .addColumn('heartbeat_at', bigint, (c) => c.notNull())
        .addColumn('created_at', bigint, (c) => c.notNull())
        .addColumn('end_at', bigint)
        .execute();
      await db.schema.createIndex('backup_job_sessions_job').on('backup_job_sessions').columns(['job_id', 'created_at']).execute();
      await db.schema
        .createTable('backup_task_sessions')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('job_session_id', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('vm_name', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('result', 'text', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('total_size', bigint, (c) => c.notNull())
        .addColumn('bytes_read', bigint, (c) => c.notNull())
        .addColumn('bytes_stored', bigint, (c) => c.notNull())
        .addColumn('vm_restore_point_id', 'text')
        .addColumn('position', 'integer', (c) => c.notNull())
        .addColumn('created_at', bigint, (c) => c.notNull())
        .addColumn('end_at', bigint)
        .execute();
      await db.schema.createIndex('backup_task_sessions_job_session').on('backup_task_sessions').columns(['job_session_id', 'position']).execute();
    },
  };
  // Issue 9 §4: one piece of work per VM, across processes and nodes. The primary key is the exclusion.
  const m002: Migration = {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('vm_claims')
        .addColumn('vm_id', 'text', (c) => c.primaryKey())
        .addColumn('vm_name', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('holder', 'text', (c) => c.notNull())
        .addColumn('node_id', 'text', (c) => c.notNull())
        .addColumn('pid', 'integer', (c) => c.notNull())
        .addColumn('host', 'text', (c) => c.notNull())
        .addColumn('claimed_at', bigint, (c) => c.notNull())
        .addColumn('heartbeat_at', bigint, (c) => c.notNull())
        .execute();
    },
  };
  // Issue 15: a VM has several volumes (every filesystem on every disk; Windows ones with drive letters). The catalog
  // says which volume each entry is on, and keeps each indexed volume's kind and letter. Rows indexed before this
  // were all on the one volume `/` named; they keep that meaning with the volume ''.
  const m005: Migration = {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('catalog_volumes')
        .addColumn('vm_restore_point_id', 'text', (c) => c.notNull())
        .addColumn('volume', 'text', (c) => c.notNull())
        .addColumn('disk_name', 'text', (c) => c.notNull())
        .addColumn('partition_index', 'integer')
        .addColumn('fs_kind', 'text', (c) => c.notNull())
        .addColumn('drive_letter', 'text')
        .addPrimaryKeyConstraint('catalog_volumes_pk', ['vm_restore_point_id', 'volume'])
        .execute();
      // The primary key gains the volume (one path can exist on two volumes): neither SQLite nor a portable
      // ALTER changes a primary key, so the table is rebuilt and its rows copied.
      await db.schema
        .createTable('catalog_entries_by_volume')
        .addColumn('vm_restore_point_id', 'text', (c) => c.notNull())
        .addColumn('volume', 'text', (c) => c.notNull())
        .addColumn('path', 'text', (c) => c.notNull())
        .addColumn('parent_path', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('size', bigint, (c) => c.notNull())
        .addColumn('mtime', bigint, (c) => c.notNull())
        .addPrimaryKeyConstraint('catalog_entries_volume_pk', ['vm_restore_point_id', 'volume', 'path'])
        .execute();
      await sql`insert into catalog_entries_by_volume (vm_restore_point_id, volume, path, parent_path, name, type, size, mtime)
        select vm_restore_point_id, '', path, parent_path, name, type, size, mtime from catalog_entries`.execute(db);
      await db.schema.dropTable('catalog_entries').execute();
      await db.schema.alterTable('catalog_entries_by_volume').renameTo('catalog_entries').execute();
      await db.schema.createIndex('catalog_entries_parent').on('catalog_entries').columns(['vm_restore_point_id', 'volume', 'parent_path']).execute();
      await db.schema.createIndex('catalog_entries_name').on('catalog_entries').column('name').execute();
    },
  };
  // Issue 15: leases in the state store, never in the blob store. Named leases for the repository's gc and backup
  // exclusions; a task's lease (`lease_expires_at`, renewed by its node's heartbeat) so another node can tell that
  // the node running it died. Running tasks an older openem left get a lease that ends like its old staleness rule.
  const m006: Migration = {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('leases')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('holder', 'text', (c) => c.notNull())
        .addColumn('node_id', 'text', (c) => c.notNull())
        .addColumn('pid', 'integer', (c) => c.notNull())
        .addColumn('host', 'text', (c) => c.notNull())
        .addColumn('acquired_at', bigint, (c) => c.notNull())
        .addColumn('heartbeat_at', bigint, (c) => c.notNull())
        .execute();
      await db.schema.alterTable('tasks').addColumn('lease_expires_at', bigint).execute();
      await db.schema.alterTable('tasks').addColumn('resume_after_lease_loss', 'integer', (c) => c.notNull().defaultTo(0)).execute();
      await db
        .updateTable('tasks')
        .set({ lease_expires_at: sql`updated_at + 30000` })
        .where('state', '=', 'Running')
        .execute();
      await db.schema.createIndex('tasks_state_lease').on('tasks').columns(['state', 'lease_expires_at']).execute();
    },
  };
  // Nothing ever read or set cancel_requested: a task's work is stopped through its engine (removal, shutdown).
  const m007: Migration = {
    async up(db: Kysely<any>) {
      await db.schema.alterTable('tasks').dropColumn('cancel_requested').execute();
    },
  };
  // Issue 14: which manifests are current and which packs are referenced live here, not in a bucket listing.
  const m008: Migration = {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('repository_catalogs')
        .addColumn('repository', 'text', (c) => c.primaryKey())
        .addColumn('adopted_at', bigint, (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('repository_manifests')
        .addColumn('repository', 'text', (c) => c.notNull())
        .addColumn('id', 'text', (c) => c.notNull())
        .addColumn('restore_point_id', 'text', (c) => c.notNull())
        .addColumn('job_id', 'text', (c) => c.notNull())
        .addColumn('vm_id', 'text', (c) => c.notNull())
        .addColumn('vm_name', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('point_type', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('repository_manifests_pk', ['repository', 'id'])
        .execute();
      await db.schema
        .createTable('repository_packs')
        .addColumn('repository', 'text', (c) => c.notNull())
        .addColumn('pack_id', 'text', (c) => c.notNull())
        .addColumn('added_at', bigint, (c) => c.notNull())
        .addPrimaryKeyConstraint('repository_packs_pk', ['repository', 'pack_id'])
        .execute();
      await db.schema
        .createTable('repository_pack_refs')
        .addColumn('repository', 'text', (c) => c.notNull())
        .addColumn('manifest_id', 'text', (c) => c.notNull())
        .addColumn('pack_id', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('repository_pack_refs_pk', ['repository', 'manifest_id', 'pack_id'])
        .execute();
      await db.schema.createIndex('repository_pack_refs_pack').on('repository_pack_refs').columns(['repository', 'pack_id']).execute();
    },
  };
  // Issue 14: failed logons are counted in the store, so the limit holds across nodes.
  const m009: Migration = {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('logon_failures')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('failures', 'integer', (c) => c.notNull())
        .addColumn('first_at', bigint, (c) => c.notNull())
        .addColumn('locked_until', bigint, (c) => c.notNull())
        .execute();
    },
  };
  // Issue 14: every node serves every mount and logs to its restore session.
  const m010: Migration = {
    async up(db: Kysely<any>) {
      await db.schema.alterTable('mounts').addColumn('restore_session_id', 'text').execute();
    },
  };
  // Issue 12: a PermissionsOnly restore's journal of the descriptors it replaces lives in the store, so whichever
  // node takes over a dead node's restore session (or starts next) finds it and puts them back.
  const m011: Migration = {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('permission_journals')
        .addColumn('session_id', 'text', (c) => c.primaryKey())
        .addColumn('vm_id', 'text', (c) => c.notNull())
        .addColumn('vm_name', 'text', (c) => c.notNull())
        .addColumn('disk_name', 'text', (c) => c.notNull())
        .addColumn('partition_index', 'integer')
        .addColumn('complete', 'integer', (c) => c.notNull())
        .addColumn('entries', 'integer', (c) => c.notNull())
        .addColumn('created_at', bigint, (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('permission_journal_entries')
        .addColumn('session_id', 'text', (c) => c.notNull())
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('path', 'text', (c) => c.notNull())
        .addColumn('old', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('permission_journal_entries_pk', ['session_id', 'seq'])
        .execute();
    },
  };
  return {
    async getMigrations() {
      return { '001_initial': m001, '002_vm_work': m002, '004_backup_sessions': m004, '005_catalog_volumes': m005, '006_task_leases': m006, '007_drop_cancel_requested': m007, '008_repository_catalog': m008, '009_logon_failures': m009, '010_mount_sessions': m010, '011_permission_journals': m011 };
    },
  };
}
