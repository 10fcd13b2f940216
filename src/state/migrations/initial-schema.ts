import { type Kysely, type Migration, sql } from 'kysely';
import type { ColumnTypes } from './column-types.js';

/** 001: accounts, sessions, jobs, VMs, restore points, catalog, tasks, audit. */
export function initialSchema({ bigint, seqColumn }: ColumnTypes): Record<string, Migration> {
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
  return { '001_initial': m001 };
}
