// The names openem gives the KVM domains it creates follow the local platform's VM name rules (no `..`, no leading
// dot, no slash, backslash or NUL) and do not start with `-`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertValidDomainName } from '../../../src/platform/kvm/kvm-names.js';

const badRequest = (e: unknown) => (e as { code?: string }).code === 'BAD_REQUEST';

test('a domain name openem creates is refused when it is `.`, `..`, starts with a dot or `-`, or holds / \\ or NUL', () => {
  for (const name of ['.', '..', '.hidden', '-c', 'a/b', 'a\\b', 'a..b', 'nul\0', '', ' web01', 'x'.repeat(129)]) {
    assert.throws(() => assertValidDomainName(name), badRequest, JSON.stringify(name));
  }
  for (const name of ['web01', 'Web Server 2019 (prod)', 'db-01.example', 'a-b_c']) assertValidDomainName(name);
});
