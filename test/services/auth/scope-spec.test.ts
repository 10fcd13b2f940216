import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseScope } from '../../../src/services/auth/roles.js';

test('a restore scope names VMs, roots, datastores or all; anything else is BAD_REQUEST', () => {
  assert.deepEqual(parseScope('vm:a, b;root:urn:veeam:HierarchyRoot:r1;datastore:d1', ['vm']), { all: false, vms: ['a', 'b'], roots: ['r1'], datastores: ['d1'], kinds: ['vm'] });
  assert.equal(parseScope('all').all, true);
  assert.throws(() => parseScope('vm:a;host:h1'), { code: 'BAD_REQUEST', message: /unknown scope "host:h1"/ });
});
