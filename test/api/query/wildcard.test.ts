import { test } from 'node:test';
import assert from 'node:assert/strict';
import { wildcardMatcher } from '../../../src/api/query/wildcard.js';
import { parseFilter } from '../../../src/api/query/query-filter.js';

test('a wildcard of many stars before a missing letter answers no match at once (no regex backtracking)', () => {
  const pattern = '*'.repeat(30) + 'z';
  const name = 'a'.repeat(5000);
  assert.equal(wildcardMatcher(pattern)(name), false);
  assert.equal(wildcardMatcher(pattern)(name + 'Z'), true);
  const filter = parseFilter(`name==${'*a'.repeat(30)}z`, new Set(['name']));
  assert.equal(filter({ name: 'a'.repeat(200) }), false);
  const notFilter = parseFilter(`name!=${'*a'.repeat(30)}z`, new Set(['name']));
  assert.equal(notFilter({ name: 'a'.repeat(200) }), true);
});

test('ordinary wildcards still match as before, without regard to case', () => {
  const cases: [string, string, boolean][] = [
    ['*', '', true],
    ['*', 'anything', true],
    ['web*', 'WebServer01', true],
    ['*server*', 'my-SERVER-1', true],
    ['w*b*1', 'web01', true],
    ['w*b*1', 'web012', false],
    ['a*b*c', 'aXbYc', true],
    ['a*b*c', 'acb', false],
    ['exact', 'EXACT', true],
    ['exact', 'exactly', false],
    ['*.vmx', 'vm (1).vmx', true],
    ['a.c', 'abc', false],
    ['**x**', 'x', true],
    ['', '', true],
    ['', 'a', false],
    ['ab*', 'a', false],
  ];
  for (const [pattern, name, expected] of cases) assert.equal(wildcardMatcher(pattern)(name), expected, `${pattern} vs ${name}`);
  assert.equal(parseFilter('name==web*', new Set(['name']))({ name: 'WEB-1' }), true);
  assert.equal(parseFilter('name!=web*', new Set(['name']))({ name: 'db-1' }), true);
});
