import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import { Command, CommanderError } from 'commander';
import { parseSize, registerVmCommand } from '../../src/cli/vm.js';
import { smallGuestTree, tempDir } from './local-fixtures.js';

/** Runs `openem <args>` in-process against `dataDir`, capturing what it prints and how it exits. */
async function openem(dataDir: string, args: string[]): Promise<{ out: string; err: string; exitCode: number }> {
  let out = '';
  let err = '';
  const program = new Command('openem')
    .exitOverride()
    .configureOutput({ writeOut: (s) => (out += s), writeErr: (s) => (err += s) });
  registerVmCommand(program, () => dataDir);
  try {
    await program.parseAsync(args, { from: 'user' });
    return { out, err, exitCode: 0 };
  } catch (e) {
    if (e instanceof CommanderError) return { out, err, exitCode: e.exitCode };
    throw e;
  }
}

test('sizes accept K/M/G/T suffixes in binary units', () => {
  assert.equal(parseSize('4096'), 4096);
  assert.equal(parseSize('64K'), 64 * 1024);
  assert.equal(parseSize('512M'), 512 * 2 ** 20);
  assert.equal(parseSize('8G'), 8 * 2 ** 30);
  assert.equal(parseSize('8GiB'), 8 * 2 ** 30);
  assert.equal(parseSize('1.5t'), 1.5 * 2 ** 40);
  assert.throws(() => parseSize('8X'), { code: 'BAD_REQUEST' });
  assert.throws(() => parseSize('-1G'), { code: 'BAD_REQUEST' });
});

test('vm create, list, show and rm work on the data directory', async () => {
  const dataDir = await tempDir('openem-data-');
  const src = await smallGuestTree();

  const created = await openem(dataDir, ['vm', 'create', 'web01', '--from-dir', src, '--size', '32M', '--platform', 'vcloud']);
  assert.equal(created.exitCode, 0, created.err);
  assert.match(created.out, /created VM web01 \([0-9a-f-]{36}\) on vcloud, disk 32M/);

  const list = await openem(dataDir, ['vm', 'list']);
  assert.match(list.out, /^NAME\s+PLATFORM\s+POWER\s+DISKS\s+ID\n/);
  assert.match(list.out, /web01\s+vcloud\s+PoweredOff\s+32M\s+[0-9a-f-]{36}/);
  const listed = JSON.parse((await openem(dataDir, ['vm', 'list', '--json'])).out);
  assert.deepEqual(listed.map((v: { name: string }) => v.name), ['web01']);

  const shown = JSON.parse((await openem(dataDir, ['vm', 'show', 'web01', '--json'])).out);
  assert.equal(shown.id, listed[0].id);
  assert.equal(shown.disks[0].path, `${dataDir}/datastores/vcd-store/web01/disk0.img`);
  assert.equal((await stat(shown.disks[0].path)).size, 32 * 2 ** 20);
  const text = await openem(dataDir, ['vm', 'show', listed[0].id]);
  assert.match(text.out, /^name:\s+web01$/m);
  assert.match(text.out, new RegExp(`disk disk0:\\s+32M\\s+${shown.disks[0].path}`));

  const rm = await openem(dataDir, ['vm', 'rm', 'web01']);
  assert.equal(rm.exitCode, 0, rm.err);
  assert.equal((await openem(dataDir, ['vm', 'list'])).out, 'no VMs\n');
});

test('errors print a message to stderr and exit non-zero', async () => {
  const dataDir = await tempDir('openem-data-');
  const src = await smallGuestTree();

  const missing = await openem(dataDir, ['vm', 'show', 'nope']);
  assert.equal(missing.exitCode, 1);
  assert.match(missing.err, /error: no VM with id or name 'nope'/);

  const badSize = await openem(dataDir, ['vm', 'create', 'x', '--from-dir', src, '--size', 'lots']);
  assert.equal(badSize.exitCode, 1);
  assert.match(badSize.err, /cannot read size 'lots'/);

  const badName = await openem(dataDir, ['vm', 'create', '../x', '--from-dir', src, '--size', '32M']);
  assert.equal(badName.exitCode, 1);
  assert.match(badName.err, /must not contain/);

  const badPlatform = await openem(dataDir, ['vm', 'create', 'x', '--from-dir', src, '--size', '32M', '--platform', 'xen']);
  assert.notEqual(badPlatform.exitCode, 0);
  assert.match(badPlatform.err, /xen/);

  assert.equal((await openem(dataDir, ['vm', 'create', 'dup', '--from-dir', src, '--size', '32M'])).exitCode, 0);
  const dup = await openem(dataDir, ['vm', 'create', 'dup', '--from-dir', src, '--size', '32M']);
  assert.equal(dup.exitCode, 1);
  assert.match(dup.err, /already exists/);
});
