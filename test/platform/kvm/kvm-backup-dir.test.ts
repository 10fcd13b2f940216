import assert from 'node:assert/strict';
import { stat, writeFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { assertFreshBackupDir, makeBackupDir } from '../../../src/platform/kvm/backup-folder.js';

const NOBODY = 65534;

test("a live backup's folder is writable by QEMU's user or group only, never by others, and a folder already holding nbd.sock or scratch.qcow2 is refused", async () => {
  for (const qemu of [{ uid: NOBODY, gid: NOBODY }, { uid: process.getuid!(), gid: process.getgid!() }]) {
    const dir = await makeBackupDir(qemu);
    try {
      const st = await stat(dir);
      assert.equal(st.mode & 0o007, 0, `no 'other' bits (mode ${(st.mode & 0o777).toString(8)})`);
      if (qemu.uid !== process.getuid!()) assert.equal(st.gid, qemu.gid, "the folder's group is QEMU's");
      await assertFreshBackupDir(dir);
      for (const name of ['nbd.sock', 'scratch.qcow2']) {
        await writeFile(join(dir, name), '');
        await assert.rejects(assertFreshBackupDir(dir), { code: 'UNAVAILABLE' }, `a planted ${name} is refused`);
        await rm(join(dir, name));
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
});
