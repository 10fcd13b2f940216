import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { EmClient, openemDetails } from '../helpers/em-client.js';
import { cliOk } from '../helpers/cli.js';
import { body, mount, pointIdOf, writeGuestTree } from '../services/mounts/flr-fixture.js';
import { cleanupOf, fileCleanup, tempDir, type Cleanup } from '../helpers/cleanup.js';

const cleanup = fileCleanup();

/** A gid with no name on this host: setpriv accepts it numerically, so no group has to be created. */
const FLR_GID = 4242;
const SHADOW = 'root:$6$secret$hash:19000:0:99999:7:::\n';
const isRoot = process.getuid?.() === 0;

let dataDir: string;
let src: string;
let server: ServerProcess | undefined;

/** Runs a command as uid/gid 65534 (nobody), optionally with one supplementary group; argv only. */
function asNobody(argv: string[], groups?: number) {
  const ids = ['--reuid=65534', '--regid=65534', groups === undefined ? '--clear-groups' : `--groups=${groups}`];
  return spawnSync('setpriv', [...ids, '--', ...argv], { encoding: 'utf8' });
}

function mountOptions(folder: string): string {
  const line = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').find((l) => l.split(' ')[4] === folder);
  assert.ok(line, `${folder} is a mount point`);
  return line;
}

/** Starts the server with `env` until the test ends (`owner`), and mounts web01's point. */
async function mountedFolder(owner: Cleanup, env: Record<string, string>): Promise<{ c: EmClient; href: string; folder: string }> {
  server = await startServerProcess({ dataDir, env });
  owner.defer(async () => {
    await server?.stop();
    server = undefined;
  });
  const c = new EmClient(server.http, 'json');
  await c.logOn();
  const href = await mount(owner, c, await pointIdOf(c, 'web01'));
  const m = await openemDetails(c, body(c, (await c.get(href)).body, 'VmRestorePointMount'), 'MountDetails');
  assert.ok(m.LocalFolder, `FUSE folder is served: ${m.LocalFolderUnavailable}`);
  return { c, href, folder: m.LocalFolder };
}

before(async () => {
  if (!isRoot) return;
  dataDir = tempDir(cleanup, 'openem-flr-private-');
  src = tempDir(cleanup, 'openem-flr-private-src-');
  writeGuestTree(src);
  // The guest's secrets: shadow 0640 root:shadow(42) as on Debian, and a root-only 0600 file.
  writeFileSync(join(src, 'etc', 'shadow'), SHADOW);
  chownSync(join(src, 'etc', 'shadow'), 0, 42);
  chmodSync(join(src, 'etc', 'shadow'), 0o640);
  writeFileSync(join(src, 'etc', 'root-only'), 'secret\n');
  chmodSync(join(src, 'etc', 'root-only'), 0o600);
  chmodSync(join(src, 'etc', 'hostname'), 0o644);
  await cliOk(dataDir, ['vm', 'create', 'web01', '--from-dir', src, '--size', '64M']);
  await cliOk(dataDir, ['backup', 'web01']);
});


test('by default the FLR root is 0700 and an unprivileged user can neither list it nor read a guest file in it', { skip: !isRoot && 'needs root (setpriv --reuid)' }, async (t) => {
  // The root is put outside the (private) data directory, below a folder everyone may enter, so that only the
  // FLR root's own mode and the mount's options stand between uid 65534 and the guest.
  const parent = tempDir(cleanupOf(t), 'openem-flr-default-');
  chmodSync(parent, 0o711);
  const root = join(parent, 'flr');
  const { c, href, folder } = await mountedFolder(cleanupOf(t), { OPENEM_FLR_ROOT: root });
  assert.equal(folder, join(root, 'web01'));
  assert.equal(statSync(root).mode & 0o7777, 0o700);
  assert.equal(readFileSync(join(folder, 'etc', 'shadow'), 'utf8'), SHADOW, 'the server user itself reads the guest');
  assert.doesNotMatch(mountOptions(folder), /allow_other/);

  const attempts = [['ls', root], ['cat', join(folder, 'etc', 'shadow')], ['cat', join(folder, 'etc', 'hostname')], ['ls', folder]];
  for (const argv of attempts) {
    const r = asNobody(argv);
    assert.notEqual(r.status, 0, `${argv.join(' ')} as uid 65534 must fail; it printed: ${r.stdout}`);
    assert.match(r.stderr, /Permission denied/, argv.join(' '));
    assert.equal(r.stdout, '');
  }
  // Second wall: even with the root opened by hand, the kernel lets no other user into a mount without allow_other.
  chmodSync(root, 0o755);
  for (const argv of attempts.slice(1)) {
    const r = asNobody(argv);
    assert.notEqual(r.status, 0, `${argv.join(' ')} as uid 65534 through an opened root must fail; it printed: ${r.stdout}`);
    assert.match(r.stderr, /Permission denied/, argv.join(' '));
  }
  assert.equal((await c.request('DELETE', href)).status, 204);
});

test('with OPENEM_FLR_GROUP the root is 0750 of that group, members read ordinary guest files, and the guest modes still guard /etc/shadow', { skip: !isRoot && 'needs root (setpriv --reuid)' }, async (t) => {
  // The data directory is private (0700), so a shared FLR root lives outside it, below folders others can enter.
  const parent = tempDir(cleanupOf(t), 'openem-flr-shared-');
  chmodSync(parent, 0o711);
  const root = join(parent, 'flr');
  const { c, href, folder } = await mountedFolder(cleanupOf(t), { OPENEM_FLR_GROUP: String(FLR_GID), OPENEM_FLR_ROOT: root });
  assert.equal(folder, join(root, 'web01'));
  const st = statSync(root);
  assert.equal(st.mode & 0o7777, 0o750);
  assert.equal(st.gid, FLR_GID);
  assert.match(mountOptions(folder), /allow_other/);
  assert.match(mountOptions(folder), /default_permissions/);

  const hostname = asNobody(['cat', join(folder, 'etc', 'hostname')], FLR_GID);
  assert.equal(hostname.status, 0, hostname.stderr);
  assert.equal(hostname.stdout, 'web01\n');
  assert.equal(asNobody(['ls', root], FLR_GID).stdout, 'web01\n');
  for (const secret of ['shadow', 'root-only']) {
    const r = asNobody(['cat', join(folder, 'etc', secret)], FLR_GID);
    assert.notEqual(r.status, 0, `a group member must not read the guest's ${secret}; it printed: ${r.stdout}`);
    assert.match(r.stderr, /Permission denied/);
  }
  const outsider = asNobody(['ls', root]);
  assert.notEqual(outsider.status, 0, 'a user outside the group still cannot list the root');
  assert.match(outsider.stderr, /Permission denied/);
  assert.equal((await c.request('DELETE', href)).status, 204);
});

test('a group name that does not exist, or a shared root inside the private data directory, stops the server at start', { skip: !isRoot && 'needs root' }, async (t) => {
  const outside = tempDir(cleanupOf(t), 'openem-flr-shared-');
  await assert.rejects(
    startServerProcess({ dataDir, env: { OPENEM_FLR_GROUP: 'openem-no-such-group', OPENEM_FLR_ROOT: join(outside, 'flr') } }),
    /group 'openem-no-such-group' does not exist/,
  );
  await assert.rejects(startServerProcess({ dataDir, env: { OPENEM_FLR_GROUP: String(FLR_GID) } }), /needs an FLR root outside the private data directory/);
});
