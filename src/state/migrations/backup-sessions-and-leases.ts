import { type Kysely, type Migration, sql } from 'kysely';
import type { ColumnTypes } from './column-types.js';

/** 002, 004–006: VM claims, backup sessions, catalog volumes, task leases. */
export function backupSessionsAndLeases({ bigint }: ColumnTypes): Record<string, Migration> {
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
  return { '002_vm_work': m002, '004_backup_sessions': m004, '005_catalog_volumes': m005, '006_task_leases': m006 };
}
