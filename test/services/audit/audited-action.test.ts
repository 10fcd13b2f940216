import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../../src/config.js';
import { createLogger } from '../../../src/logger.js';
import { createBaseContext } from '../../../src/app-context.js';
import { conflict } from '../../../src/errors.js';
import { audited, listAudit } from '../../../src/services/audit/audit-trail.js';
import { ADMIN_PASSWORD } from '../../helpers/server-process.js';
import { cleanupOf, tempDir } from '../../helpers/cleanup.js';

test('an audited action is written ahead as started, then completed with its outcome: success with its target, or failure with its message', async (t) => {
  const cleanup = cleanupOf(t);
  const dataDir = tempDir(cleanup, 'openem-audited-');
  const ctx = await createBaseContext(loadConfig({ env: {}, flags: { dataDir, adminPassword: ADMIN_PASSWORD } }), createLogger('silent'), { announce: () => {} });
  cleanup.defer(() => ctx.store.close());
  const entry = { who: 'alice', what: 'restore-vm', target: 'web01 p1', address: '192.0.2.7', detail: 'target original' };

  const seen = await audited(ctx, entry, async () => (await listAudit(ctx)).map((e) => e.result), (n) => ({ target: `web01 p1 (${n.length} entry)` }));
  assert.deepEqual(seen, ['started'], 'the entry is in the trail before the action runs');
  await assert.rejects(audited(ctx, entry, async () => { throw conflict('VM web01 is busy'); }), { code: 'CONFLICT' });

  const [done, failed] = await listAudit(ctx);
  assert.deepEqual({ ...done, seq: 0, at: 0 }, { ...entry, seq: 0, at: 0, result: 'success', target: 'web01 p1 (1 entry)' });
  assert.deepEqual({ ...failed, seq: 0, at: 0 }, { ...entry, seq: 0, at: 0, result: 'failure', detail: 'target original: VM web01 is busy' });
});
