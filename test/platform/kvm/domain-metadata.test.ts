// Issue #13: openem's domain metadata reaches libvirt inside a domain definition defined from a file, never on
// virsh's command line; withOpenemMetadata changes only openem's element of that definition.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OPENEM_NS, parseDomainXml, withOpenemMetadata, type OpenemDomainMetadata } from '../../../src/platform/kvm/domain-xml.js';

const domain = (metadata: string) => `<domain type='kvm'>
  <name>web01</name>
  <uuid>6f1d8c8e-0b8b-4a5e-9f1e-3c0e7a1b2c3d</uuid>${metadata}
  <memory unit='KiB'>65536</memory>
  <vcpu placement='static'>1</vcpu>
  <devices>
    <graphics type='vnc' port='-1' passwd='secret'/>
  </devices>
</domain>
`;
const other = `<app:settings xmlns:app="https://example.com/app"><app:metadata>kept</app:metadata></app:settings>`;

test("openem's metadata element is replaced, added beside other applications' elements, or given a <metadata> of its own; the rest stays byte for byte", () => {
  const old = `\n  <metadata>\n    ${other}\n    <openem:vm xmlns:openem="${OPENEM_NS}">{"guestOs":"linux"}</openem:vm>\n  </metadata>`;
  const mark: OpenemDomainMetadata = {
    guestOs: 'linux',
    restoreIncomplete: {
      state: 'failed', sessionId: 's1', vmRestorePointId: 'p1', restorePointTime: '2026-12-01T00:00:00.000Z',
      request: { quickRollback: false, powerOnAfterRestore: false }, since: '2026-12-01T00:00:00.000Z', reason: 'a </openem:vm> & <metadata> in a reason',
    },
  };
  const replaced = withOpenemMetadata(domain(old), mark);
  assert.deepEqual(parseDomainXml(replaced).metadata, mark);
  assert.equal(replaced.split('openem:vm xmlns').length - 1, 1, 'one openem element');
  assert.ok(replaced.includes(other), "another application's element is kept");
  assert.ok(replaced.includes("passwd='secret'"), 'the rest of the definition is kept');
  assert.deepEqual(parseDomainXml(withOpenemMetadata(replaced, { guestOs: 'windows' })).metadata, { guestOs: 'windows' }, 'a mark that held markup is replaced again');

  const beside = withOpenemMetadata(domain(`\n  <metadata>\n    ${other}\n  </metadata>`), { guestOs: 'linux' });
  assert.deepEqual(parseDomainXml(beside).metadata, { guestOs: 'linux' });
  assert.ok(beside.includes(other));

  const none = withOpenemMetadata(domain(''), { createdAt: '2026-12-01T00:00:00.000Z' });
  assert.deepEqual(parseDomainXml(none).metadata, { createdAt: '2026-12-01T00:00:00.000Z' });
  assert.equal(none.replace(/<metadata>.*<\/metadata>/, ''), domain(''), 'only a <metadata> is added');
});
