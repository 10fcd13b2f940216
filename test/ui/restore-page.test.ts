import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { startServerProcess } from '../helpers/server-process.js';
import { createBackedUpVm, damageDisk } from '../helpers/vm-fixture.js';
import { cliOk } from '../helpers/cli.js';
import { cleanupOf, tempDir } from '../helpers/cleanup.js';

/** Debian's chromium, started the way this machine allows (no background networking, no sandbox as root). */
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

test('a restore operator logs on in the web page, restores a VM with QuickRollback and sees the session succeed', async (t) => {
  const dataDir = tempDir(cleanupOf(t), 'openem-ui-');
  const { image, atBackup } = await createBackedUpVm(dataDir, 'uivm', { sizeMiB: 32, payloadMiB: 4 });
  await cliOk(dataDir, ['user', 'add', 'operator', '--password-stdin', '--role', 'restore-operator', '--scope', 'vm:uivm'], { input: 'Operator-pass-1\n' });
  damageDisk(image, 2);

  // Each start is followed at once by its stop, registered with t.after: a failing launch or assertion stops them too.
  const server = await startServerProcess({ dataDir });
  cleanupOf(t).defer(() => server.stop());
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  cleanupOf(t).defer(() => browser.close());
  const page = await browser.newPage();
  await page.goto(`${server.http}/`);
  await page.fill('#user', 'operator');
  await page.fill('#password', 'wrong');
  await page.click('#logon button[type=submit]');
  await page.waitForSelector('#logon-error:not(:empty)');
  await page.fill('#password', 'Operator-pass-1');
  await page.click('#logon button[type=submit]');
  await page.waitForSelector('.vm-card');
  assert.equal(await page.textContent('#who'), 'operator');
  assert.equal(await page.locator('.vm-card').count(), 1);
  await page.click('.vm-card tbody tr:first-child button.choose');
  await page.check('#quick-rollback');
  await page.click('#restore-vm');
  await page.click('#confirm-ok');
  await page.waitForFunction(() => document.querySelector('#session-result')?.textContent === 'Success', undefined, { timeout: 60_000 });
  assert.ok(readFileSync(image).equals(atBackup), 'the restore put the disk back byte for byte');
  // Settings a VM's platform does not allow come back as the API's Error message.
  await page.click('a.tab:has-text("VMs")');
  await page.click('.vm-card tbody tr:first-child button.choose');
  await page.check('#quick-rollback');
  await page.check('#keep-original');
  await page.click('#restore-vm');
  await page.click('#confirm-ok');
  await page.waitForSelector('#restore-error:not(:empty)');
  assert.match((await page.textContent('#restore-error')) ?? '', /QuickRollback/);
  await page.click('#logoff');
  await page.waitForSelector('#logon');
});
