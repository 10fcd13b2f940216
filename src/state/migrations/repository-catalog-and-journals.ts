import { type Kysely, type Migration } from 'kysely';
import type { ColumnTypes } from './column-types.js';

/** 007–011: repository catalog, logon failures, mount sessions, permission journals. */
export function repositoryCatalogAndJournals({ bigint }: ColumnTypes): Record<string, Migration> {
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
  return { '007_drop_cancel_requested': m007, '008_repository_catalog': m008, '009_logon_failures': m009, '010_mount_sessions': m010, '011_permission_journals': m011 };
}
