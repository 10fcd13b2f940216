import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { permissionsJournal, putBackInterruptedPermissionRestores } from '../../../src/services/guest-restore/permissions-journal.js';
import type { ReplacedDescriptor } from '../../../src/guestfs/ntfs/ntfs3g-descriptor-journal.js';
import { cleanupOf } from '../../helpers/cleanup.js';
import { openTestApp } from '../restore-vm/restore-fixtures.js';

const SESSION_A = '00000000-0000-4000-8000-00000000000a';
const SESSION_B = '00000000-0000-4000-8000-00000000000b';

test('a journal is written and read back in batches; at start one that cannot be put back is kept, one never completed goes, neither stops the start', async (t) => {
  const { ctx } = await openTestApp(cleanupOf(t));
  // A journal of 1,300 descriptors (three batches) for a VM that is not there: its put-back cannot open the disk.
  const kept = permissionsJournal(ctx, { sessionId: SESSION_A, vmId: 'vm-gone', vmName: 'gone01', diskName: 'disk0' });
  await kept.begin();
  const replaced: ReplacedDescriptor[] = Array.from({ length: 1300 }, (_, i) => ({ path: [Buffer.from('Share'), Buffer.from(`doc-${i}.txt`)], old: Buffer.from([1, 0, 4, 0x80, i & 0xff]) }));
  for (let i = 0; i < replaced.length; i += 500) await kept.add(replaced.slice(i, i + 500));
  await kept.complete();
  const batches: number[] = [];
  const readBack: typeof replaced = [];
  for await (const b of kept.batches()) {
    batches.push(b.length);
    readBack.push(...b);
  }
  assert.deepEqual(batches, [512, 512, 276], 'read back 512 at a time');
  assert.deepEqual(readBack, replaced, 'every descriptor, in order, byte for byte');
  // A journal whose restore was killed before it was complete: nothing had been set.
  const unfinished = permissionsJournal(ctx, { sessionId: SESSION_B, vmId: 'vm-gone-too', vmName: 'gone02', diskName: 'disk0' });
  await unfinished.begin();
  await unfinished.add(replaced.slice(0, 10));

  const hooks = ctx.onShutdown.length;
  await putBackInterruptedPermissionRestores(ctx);
  // The put-backs run in the background; shutdown waits for them, and so does this test.
  for (const hook of ctx.onShutdown.slice(hooks)) await hook();

  const rows = await ctx.store.db.selectFrom('permission_journals').select(['session_id', 'complete', 'entries']).execute();
  assert.deepEqual(rows, [{ session_id: SESSION_A, complete: 1, entries: 1300 }], 'the one that could not be put back is kept, the unfinished one is gone');
  const entries = await ctx.store.db.selectFrom('permission_journal_entries').select(({ fn }) => fn.countAll().as('n')).where('session_id', '=', SESSION_B).executeTakeFirstOrThrow();
  assert.equal(Number(entries.n), 0, 'with its entries');
});

test('at start a journal file of the previous version goes into the store as a complete journal and is removed; a temporary one goes, an unreadable one stays', async (t) => {
  const { ctx } = await openTestApp(cleanupOf(t));
  const dir = join(ctx.config.dataDir, 'permissions-journal');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // 600 descriptors (two batches) for a VM that is not there: imported, then kept since its put-back cannot open the disk.
  const replaced: ReplacedDescriptor[] = Array.from({ length: 600 }, (_, i) => ({ path: [Buffer.from('Share'), Buffer.from(`dóc-${i}.txt`)], old: Buffer.from([1, 0, 4, 0x80, i & 0xff]) }));
  const file = join(dir, `${SESSION_A}.json`);
  writeFileSync(file, JSON.stringify({ sessionId: SESSION_A, vmId: 'vm-gone', vmName: 'gone01', diskName: 'disk0', partitionIndex: 2, replaced: replaced.map((r) => ({ path: r.path.map((p) => p.toString('base64')), old: r.old.toString('base64') })) }));
  const temporary = join(dir, `.${SESSION_B}.json.tmp-1234`);
  writeFileSync(temporary, '{');
  const unreadable = join(dir, `${SESSION_B}.json`);
  writeFileSync(unreadable, JSON.stringify({ sessionId: SESSION_B, vmId: 'vm-gone', vmName: 'gone01', diskName: 'disk0', replaced: [{ path: [], old: '' }] }));

  const hooks = ctx.onShutdown.length;
  await putBackInterruptedPermissionRestores(ctx);
  for (const hook of ctx.onShutdown.slice(hooks)) await hook();

  assert.deepEqual(readdirSync(dir), [`${SESSION_B}.json`], 'the imported and the temporary file are gone, the unreadable one is kept');
  assert.ok(existsSync(unreadable));
  const rows = await ctx.store.db.selectFrom('permission_journals').select(['session_id', 'vm_id', 'disk_name', 'partition_index', 'complete', 'entries']).execute();
  assert.deepEqual(rows, [{ session_id: SESSION_A, vm_id: 'vm-gone', disk_name: 'disk0', partition_index: 2, complete: 1, entries: 600 }]);
  const readBack: ReplacedDescriptor[] = [];
  for await (const b of permissionsJournal(ctx, { sessionId: SESSION_A, vmId: 'vm-gone', vmName: 'gone01', diskName: 'disk0' }).batches()) readBack.push(...b);
  assert.deepEqual(readBack, replaced, 'every descriptor, in order, byte for byte');
});
