/**
 * The restore portal (issue #16) in headless Debian chromium against the real server with demo data, over HTTPS
 * with its self-signed certificate: a scoped Restore Operator finds a file in the catalog, browses to it in a
 * restore point, downloads it and its folder, restores it into the live VM and rolls the VM back with QuickRollback;
 * a Portal Administrator's dashboard shows the figures the API reports; Windows volumes and a 10,000-entry folder
 * browse page by page. Screenshots of each view at 1280×800 and 390×844 go to a folder under the test temp dir.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tar from 'tar-stream';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startServerProcess, ADMIN_PASSWORD, type ServerProcess } from '../helpers/server-process.js';
import { fileCleanup, tempDir } from '../helpers/cleanup.js';
import { cliOk } from '../helpers/cli.js';
import { EmClient } from '../helpers/em-client.js';
import { assertLiveClean, liveImage, readLive } from '../services/mounts/flr-fixture.js';
import { writeDemoSourceTree } from '../../src/platform/demo/demo-vms.js';

/** Debian's chromium, started the way this machine allows (no background networking, no sandbox as root). */
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const SIZES = [{ width: 1280, height: 800 }, { width: 390, height: 844 }];
/** Under the test run's temp dir (kept after the run with OPENEM_KEEP_TEST_TMP=1). */
const SHOTS = mkdtempSync(join(tmpdir(), 'openem-portal-screenshots-'));

const cleanup = fileCleanup();
let server: ServerProcess;
let browser: Browser;
let dataDir: string;
let operatorPassword: string;
let admin: EmClient;
/** web01's /etc/motd as the Increment point holds it, read from the live disk before anything is restored. */
let incrementMotd: Buffer;
const winNotes = Buffer.from('meeting at 10\r\n');

before(async () => {
  console.log(`# portal screenshots: ${SHOTS}`);
  dataDir = tempDir(cleanup, 'openem-portal-');
  server = await startServerProcess({ dataDir, args: ['--demo'], env: { OPENEM_LOG_LEVEL: 'info' }, timeoutMs: 300_000 });
  cleanup.defer(() => server.stop());
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  cleanup.defer(() => browser.close());
  operatorPassword = JSON.parse(readFileSync(join(dataDir, 'demo-logons.json'), 'utf8')).operator;
  admin = new EmClient(server.http, 'json');
  assert.equal((await admin.logOn()).status, 201);

  // Beside the demo: a Windows VM and a Linux VM with a 10,000-entry folder, backed up by the CLI while the server runs.
  const win = tempDir(cleanup, 'openem-portal-win-');
  mkdirSync(join(win, 'Users/Ann/Documents'), { recursive: true });
  writeFileSync(join(win, 'Users/Ann/Documents/notes.txt'), winNotes);
  mkdirSync(join(win, 'Windows'));
  writeFileSync(join(win, 'Windows/setup.log'), randomBytes(100_000));
  await cliOk(dataDir, ['vm', 'create', 'win01', '--from-dir', win, '--size', '64M', '--platform', 'hyperv', '--os', 'windows']);
  const big = tempDir(cleanup, 'openem-portal-big-');
  mkdirSync(join(big, 'data/many'), { recursive: true });
  for (let i = 0; i < 10_000; i++) writeFileSync(join(big, 'data/many', `f${String(i).padStart(5, '0')}.txt`), `file ${i}\n`);
  await cliOk(dataDir, ['vm', 'create', 'big01', '--from-dir', big, '--size', '96M']);
  await cliOk(dataDir, ['backup', 'win01', 'big01']);
  incrementMotd = (await readLive(await liveImage(dataDir, 'web01'), '/etc/motd'))!;
});

after(() => console.log(`# portal screenshots: ${SHOTS}`));

async function logOn(user: string, password: string): Promise<Page> {
  const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: SIZES[0], acceptDownloads: true });
  cleanup.defer(() => context.close());
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  cleanup.defer(() => assert.deepEqual(errors, [], 'the page threw'));
  await page.goto(`${server.https}/`);
  // Keyboard only: the user field has focus, Tab moves to the password, Enter logs on.
  await page.waitForSelector('#user:focus');
  await page.keyboard.type(user);
  await page.keyboard.press('Tab');
  await page.keyboard.type(password);
  await page.keyboard.press('Enter');
  await page.waitForSelector('#who');
  assert.equal(await page.textContent('#who'), user);
  return page;
}

/** The page at both sizes; back at 1280×800 afterwards. */
async function screenshots(page: Page, name: string): Promise<void> {
  for (const size of SIZES) {
    await page.setViewportSize(size);
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    await page.screenshot({ path: join(SHOTS, `${name}-${size.width}x${size.height}.png`), fullPage: true });
    // Readable on a phone: nothing wider than the screen (wide tables scroll inside their card).
    const overflow = await page.evaluate(() => {
      const width = document.documentElement.clientWidth;
      const wide = [...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > width + 1 && !e.closest('.table-wrap'));
      return { by: document.documentElement.scrollWidth - width, what: wide.slice(0, 3).map((e) => `${e.tagName.toLowerCase()}#${e.id}.${e.className}`) };
    });
    assert.ok(overflow.by <= 0, `${name} at ${size.width}px is ${overflow.by}px wider than the screen: ${overflow.what.join(', ')}`);
  }
  await page.setViewportSize(SIZES[0]);
}

async function points(vm: string): Promise<{ id: string; type: string }[]> {
  const r = await admin.get(`${admin.base}/api/query?type=VmRestorePoint&format=Entities&sortDesc=CreationTime&filter=${encodeURIComponent(`VmDisplayName=="${vm}"`)}`);
  return r.body.Entities.VmRestorePoints.VmRestorePoints.map((p: any) => ({ id: p.UID.split(':').pop(), type: p.PointType }));
}

async function untar(data: Buffer): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  const ex = tar.extract();
  ex.on('entry', (h, stream, next) => {
    const parts: Buffer[] = [];
    stream.on('data', (d: unknown) => parts.push(d as Buffer));
    stream.on('end', () => {
      if (h.type === 'file') files.set(h.name, Buffer.concat(parts));
      next();
    });
  });
  await new Promise<void>((resolve, reject) => {
    ex.on('finish', resolve);
    ex.on('error', reject);
    ex.end(data);
  });
  return files;
}

async function download(page: Page, selector: string): Promise<Buffer> {
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click(selector)]);
  return readFileSync((await dl.path())!);
}

test('serve --demo without a terminal writes JSON log lines and keeps the demo logons private', () => {
  const lines = server.output().split('\n').filter((l) => l.startsWith('{'));
  assert.ok(lines.length > 0 && lines.every((l) => typeof JSON.parse(l).level === 'number'), 'pino JSON lines');
  assert.match(server.output(), /openem \S+ listening: https:\/\/127\.0\.0\.1:\d+ http:\/\/127\.0\.0\.1:\d+/);
  assert.ok(!server.output().includes(operatorPassword), 'no password in the log');
  assert.equal(statSync(join(dataDir, 'demo-logons.json')).mode & 0o777, 0o600);
});

test('a scoped Restore Operator logs on with the keyboard and sees and is offered only what their scope allows', async () => {
  const page = await logOn('operator', operatorPassword);
  assert.equal(await page.textContent('#role'), 'Restore Operator');
  assert.deepEqual(await page.locator('nav.tabs a').allTextContents(), ['VMs', 'Files', 'Sessions']);
  await page.waitForSelector('.vm-card');
  assert.deepEqual(await page.locator('.vm-card').evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.vm)), ['files01', 'web01']);
  // The dashboard's reports are a Portal Administrator's: not offered, and asking for it shows the VMs.
  await page.goto(`${server.https}/ui/#/dashboard`);
  await page.waitForSelector('#vms-title');
  await page.click('nav.tabs a:has-text("Files")');
  await page.fill('#search-name', 'motd');
  await page.click('#catalog-search button[type=submit]');
  await page.waitForSelector('#search-results');
  const vms = await page.locator('#search-results tbody tr td:nth-child(3)').allTextContents();
  assert.ok(vms.length >= 4, `motd in every point of web01 and files01: ${vms}`);
  assert.deepEqual([...new Set(vms)].sort(), ['files01', 'web01']);
  await screenshots(page, 'files-search-operator');
  await page.click('nav.tabs a:has-text("VMs")');
  await page.waitForSelector('.vm-card');
  await screenshots(page, 'vms-operator');
});

test('the operator finds /etc/motd in the catalog, browses to it in the Full point, downloads it and its folder, and restores it into the live VM', async () => {
  const expected = (() => {
    const dir = tempDir(cleanup, 'openem-portal-web01-');
    return writeDemoSourceTree('web01', dir).then(() => readFileSync(join(dir, 'etc/motd')));
  })();
  const full = (await points('web01')).find((p) => p.type === 'Full')!;
  const image = await liveImage(dataDir, 'web01');
  const page = await logOn('operator', operatorPassword);
  await page.click('nav.tabs a:has-text("Files")');
  await page.fill('#search-name', 'motd');
  await page.selectOption('#search-vm', 'web01');
  await page.click('#catalog-search button[type=submit]');
  await page.click(`#search-results tr[data-point="${full.id}"][data-path="/etc/motd"] .open-in-point`);
  await page.waitForSelector('#entries tr[data-name="motd"]');
  assert.deepEqual(await page.locator('#breadcrumbs li').allTextContents(), ['/', 'etc']);
  const motd = await download(page, '#entries tr[data-name="motd"] a.download');
  assert.ok(motd.equals(await expected), 'the downloaded file is the Full point\'s /etc/motd byte for byte');
  assert.ok(!motd.equals(incrementMotd), 'the live VM has another /etc/motd, so the restore has something to do');
  await screenshots(page, 'files-browse');

  // The breadcrumb back to /, then the folder as a tar archive.
  await page.click('#breadcrumbs a:has-text("/")');
  await page.waitForSelector('#entries tr[data-name="etc"]');
  const archive = await untar(await download(page, '#entries tr[data-name="etc"] a.download'));
  const inTar = [...archive.entries()].find(([name]) => name.endsWith('motd'));
  assert.ok(inTar && inTar[1].equals(motd), `etc.tar holds motd: ${[...archive.keys()].slice(0, 5)}`);

  await page.click('#entries tr[data-name="etc"] a.entry-name');
  await page.click('#entries tr[data-name="motd"] button.restore-entry');
  const dialog = page.locator('dialog.confirm[open]');
  assert.match((await dialog.textContent()) ?? '', /Restore to VM web01\?.*Restore \/etc\/motd from Full .* to its original location in VM web01/);
  assert.ok(await page.isChecked('#browse-overwrite-yes'));
  await page.click('#confirm-ok');
  await page.waitForFunction(() => /: (Success|Failed|Warning)/.test(document.querySelector('#browse-status')?.textContent ?? ''), undefined, { timeout: 120_000 });
  assert.match((await page.textContent('#browse-status')) ?? '', /Restore of \/etc\/motd to VM web01: Success/);
  assert.ok((await readLive(image, '/etc/motd'))!.equals(motd), 'the live VM\'s /etc/motd is the restored one');
  await assertLiveClean(image);
});

test('the operator restores web01 with QuickRollback from the keyboard, watches the session to Success, and sees a refusal in the API\'s words', async () => {
  const image = await liveImage(dataDir, 'web01');
  // Damage a MiB inside the guest filesystem, as a failed change would.
  const fd = openSync(image, 'r+');
  const damage = randomBytes(2 ** 20);
  try {
    writeSync(fd, damage, 0, damage.length, 2 * 2 ** 20);
  } finally {
    closeSync(fd);
  }
  const page = await logOn('operator', operatorPassword);
  await page.click('.vm-card[data-vm="web01"] tbody tr:first-child button.choose');
  await page.check('#quick-rollback');
  await screenshots(page, 'vms-restore-form');
  // Enter opens the confirmation (focus on its Restore button), Escape cancels it, Enter again and Enter restores.
  await page.focus('#restore-vm');
  await page.keyboard.press('Enter');
  await page.waitForSelector('dialog.confirm[open] #confirm-ok:focus');
  assert.match((await page.textContent('dialog.confirm[open]')) ?? '', /to VM web01 in place, replacing its disks with QuickRollback/);
  await page.keyboard.press('Escape');
  await page.waitForSelector('dialog.confirm[open]', { state: 'detached' });
  await page.focus('#restore-vm');
  await page.keyboard.press('Enter');
  await page.waitForSelector('dialog.confirm[open] #confirm-ok:focus');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#session-details');
  await page.waitForFunction(() => document.querySelector('#session-state')?.textContent === 'Stopped', undefined, { timeout: 180_000 });
  assert.equal(await page.textContent('#session-result'), 'Success');
  // The blocks it fetched and those it left alone, as the session's log counts them.
  await page.waitForSelector('#block-counters tbody tr');
  const cells = await page.locator('#block-counters tbody tr:first-child td').allTextContents();
  assert.ok(Number(cells[1].split(' ')[0]) >= 1 && Number(cells[4]) > 100, `fetched ${cells[1]}, left unchanged ${cells[4]}`);
  assert.match((await page.textContent('#session-log')) ?? '', /left \d+ blocks unchanged/);
  await screenshots(page, 'sessions-restore');

  // The live VM is the Increment again: the damaged MiB is gone, /etc/motd is the Increment's, the filesystem checks clean.
  const back = Buffer.alloc(2 ** 20);
  const rfd = openSync(image, 'r');
  try {
    readSync(rfd, back, 0, back.length, 2 * 2 ** 20);
  } finally {
    closeSync(rfd);
  }
  assert.ok(!back.equals(damage));
  assert.ok((await readLive(image, '/etc/motd'))!.equals(incrementMotd));
  await assertLiveClean(image);

  // KeepOriginalVM with QuickRollback: refused, in the words the API uses for the same body.
  await page.click('nav.tabs a:has-text("VMs")');
  await page.click('.vm-card[data-vm="web01"] tbody tr:first-child button.choose');
  await page.check('#quick-rollback');
  await page.check('#keep-original');
  await page.click('#restore-vm');
  await page.click('#confirm-ok');
  await page.waitForSelector('#restore-error:not(:empty)');
  const newest = (await points('web01'))[0];
  const api = await admin.request('POST', `${admin.base}/api/vmRestorePoints/${newest.id}?action=restore`, { body: JSON.stringify({ VmRestoreSpec: { PowerOnAfterRestore: false, QuickRollback: true, KeepOriginalVM: true } }) });
  assert.equal(api.status, 400);
  assert.equal(await page.textContent('#restore-error'), api.body.Message);
});

test('a Portal Administrator\'s dashboard charts the figures the API reports, and a Cloud Director restore offers its own parameters', async () => {
  const page = await logOn('admin', ADMIN_PASSWORD);
  assert.deepEqual(await page.locator('nav.tabs a').allTextContents(), ['Dashboard', 'VMs', 'Files', 'Sessions']);
  await page.waitForSelector('#figures-capacity');
  const figure = async (table: string, row: string) => (await page.locator(`#${table} tr:has(th:text-is("${row}")) td`).getAttribute('data-value'))!;
  const report = async (name: string) => (await admin.get(`${admin.base}/api/reports/summary/${name}`)).body;
  const [repo, vms, jobs, overview] = [await report('repository'), await report('vms_overview'), await report('job_statistics'), await report('overview')];
  const files = (await admin.get(`${admin.base}/api/backupFiles?format=Entity`)).body.BackupFiles as any[];
  assert.equal(Number(await figure('figures-capacity', 'Capacity')), repo.Periods[0].Capacity);
  assert.equal(Number(await figure('figures-capacity', 'Backup size')), repo.Periods[0].BackupSize);
  // Free space is the file system's, which the server's own writes change between the two reads.
  assert.ok(Math.abs(Number(await figure('figures-capacity', 'Free space')) - repo.Periods[0].FreeSpace) < 256 * 2 ** 20);
  assert.equal(Number(await figure('figures-growth', 'Full points')), vms.FullBackupPointsSize);
  assert.equal(Number(await figure('figures-growth', 'Increments')), vms.IncrementalBackupPointsSize);
  assert.equal(Number(await figure('figures-growth', 'Their size now')), files.reduce((n, f) => n + f.BackupSize, 0));
  assert.equal(Number(await figure('figures-growth', 'Their size now')), vms.FullBackupPointsSize + vms.IncrementalBackupPointsSize);
  assert.equal(Number(await figure('figures-jobs', 'Job runs')), jobs.TotalJobRuns);
  assert.equal(Number(await figure('figures-jobs', 'Successful')), jobs.SuccessfulJobRuns);
  assert.equal(Number(await figure('figures-jobs', 'Warnings')), jobs.WarningsJobRuns);
  assert.equal(Number(await figure('figures-jobs', 'Failed')), jobs.FailedJobRuns);
  assert.equal(Number(await figure('figures-protected', 'Protected VMs')), vms.ProtectedVms);
  assert.equal(Number(await figure('figures-protected', 'Latest state success')), overview.SuccessfulVmLastestStates);
  const web01 = files.filter((f) => f.Links.some((l: any) => l.Name === 'Backup web01'));
  assert.equal(Number(await figure('figures-dedup', 'web01 data')), web01.reduce((n, f) => n + f.DataSize, 0));
  assert.equal(Number(await figure('figures-dedup', 'web01 stored')), web01.reduce((n, f) => n + f.BackupSize, 0));
  // Every chart drew something: a canvas with pixels that are not blank.
  const drawn = await page.locator('canvas').evaluateAll((cs) => cs.map((c) => {
    const canvas = c as HTMLCanvasElement;
    const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
    let painted = 0;
    for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) painted++;
    return painted;
  }));
  assert.equal(drawn.length, 7);
  assert.ok(drawn.every((n) => n > 500), `painted pixels per chart: ${drawn}`);
  await screenshots(page, 'dashboard');

  // app01 is a Cloud Director VM: hierarchy root, new name and datastore instead of KeepOriginalVM; refusals are the API's.
  await page.click('nav.tabs a:has-text("VMs")');
  await page.click('.vm-card[data-vm="app01"] tbody tr:first-child button.choose');
  assert.equal(await page.locator('#keep-original').count(), 0);
  await page.waitForSelector('#hierarchy-root option:text-is("vcd.local")', { state: 'attached' });
  await page.fill('#vm-new-name', 'web01');
  await page.waitForSelector('#datastore option:text-is("vcd-store")', { state: 'attached' });
  await page.selectOption('#datastore', { label: 'vcd-store' });
  await page.click('#restore-vm');
  assert.match((await page.textContent('dialog.confirm[open]')) ?? '', /to a new VM named web01/);
  await page.click('#confirm-ok');
  await page.waitForSelector('#restore-error:not(:empty)');
  assert.match((await page.textContent('#restore-error')) ?? '', /RestoreSpec rule: a VM named 'web01' already exists/);
  await screenshots(page, 'vms-admin');
  await page.click('nav.tabs a:has-text("Sessions")');
  await page.waitForSelector('#backup-sessions');
  await screenshots(page, 'sessions-admin');
});

test('Windows volumes browse as C:\\ with breadcrumbs and owners, and a 10,000-entry folder pages 500 entries at a time', async () => {
  const page = await logOn('admin', ADMIN_PASSWORD);
  await page.click('nav.tabs a:has-text("Files")');
  await page.selectOption('#browse-vm', 'win01');
  await page.selectOption('#browse-point', { index: 1 });
  for (const folder of ['Users', 'Ann', 'Documents']) await page.click(`#entries tr[data-name="${folder}"] a.entry-name`);
  await page.waitForSelector('#entries tr[data-name="notes.txt"]');
  assert.deepEqual(await page.locator('#breadcrumbs li').allTextContents(), ['C:\\', 'Users', 'Ann', 'Documents']);
  // The mount shows Windows paths as EM does (C:\Users\Ann); the page navigates by the same guest path either way.
  assert.equal(await page.getAttribute('#entries tr[data-name="notes.txt"]', 'data-path'), 'C:/Users/Ann/Documents/notes.txt');
  const [win] = await points('win01');
  const mounts = (await admin.get(`${admin.base}/api/vmRestorePoints/${win.id}/mounts`)).body.VmRestorePointMounts;
  const listing = (await admin.get(`${mounts[0].Href.replace(/^https?:\/\/[^/]+/, admin.base)}/C:/Users/Ann/Documents`)).body;
  assert.equal(await page.textContent('#entries tr[data-name="notes.txt"] td:nth-child(4)'), listing.Files[0].Owner);
  assert.ok((await download(page, '#entries tr[data-name="notes.txt"] a.download')).equals(winNotes));
  await screenshots(page, 'files-windows');

  await page.selectOption('#browse-vm', 'big01');
  await page.selectOption('#browse-point', { index: 1 });
  await page.click('#entries tr[data-name="data"] a.entry-name');
  await page.click('#entries tr[data-name="many"] a.entry-name');
  // #page-info is already there for the folder before ("Page 1 of 1"): wait for the new folder's first entry, and then
  // give its page line the moment it may take (a clean-clone run read the old one).
  await page.waitForSelector('#entries tr[data-name="f00000.txt"]');
  await page.waitForFunction(() => document.querySelector('#page-info')?.textContent !== 'Page 1 of 1', undefined, { timeout: 5000 }).catch(() => undefined);
  assert.equal(await page.textContent('#page-info'), 'Page 1 of 20');
  assert.equal(await page.locator('#entries tbody tr').count(), 500);
  assert.equal(await page.getAttribute('#entries tbody tr:first-child', 'data-name'), 'f00000.txt');
  await page.click('#page-next');
  await page.waitForSelector('#entries tr[data-name="f00500.txt"]');
  assert.equal(await page.textContent('#page-info'), 'Page 2 of 20');
  await page.click('#page-last');
  await page.waitForSelector('#entries tr[data-name="f09999.txt"]');
  assert.equal(await page.textContent('#page-info'), 'Page 20 of 20');
  assert.equal(await page.getAttribute('#entries tbody tr:first-child', 'data-name'), 'f09500.txt');
  await screenshots(page, 'files-10000');
});

test('an operator whose role grants only file restore is offered no VM restore, and one granted only VM restore no file restore', async () => {
  await cliOk(dataDir, ['user', 'add', 'fileop', '--password-stdin', '--role', 'restore-operator', '--scope', 'vm:web01', '--kinds', 'file'], { input: 'Fileop-pass-1\n' });
  await cliOk(dataDir, ['user', 'add', 'vmop', '--password-stdin', '--role', 'restore-operator', '--scope', 'vm:web01', '--kinds', 'vm'], { input: 'Vmop-pass-1\n' });
  const fileop = await logOn('fileop', 'Fileop-pass-1');
  await fileop.click('.vm-card[data-vm="web01"] tbody tr:first-child button.choose');
  assert.equal(await fileop.textContent('.vm-card[data-vm="web01"] tbody tr:first-child button.choose'), 'Details');
  await fileop.waitForSelector('text=Your role does not grant entire VM restore.');
  assert.equal(await fileop.locator('#restore-vm').count(), 0);
  await fileop.click('nav.tabs a:has-text("Files")');
  await fileop.selectOption('#browse-vm', 'web01');
  await fileop.selectOption('#browse-point', { index: 1 });
  await fileop.waitForSelector('#entries tr[data-name="etc"] button.restore-entry');

  const vmop = await logOn('vmop', 'Vmop-pass-1');
  await vmop.click('.vm-card[data-vm="web01"] tbody tr:first-child button.choose');
  await vmop.waitForSelector('#restore-vm');
  // Browsing a restore point mounts it, which the API counts as file-level restore: not offered, the search is.
  await vmop.click('nav.tabs a:has-text("Files")');
  await vmop.waitForSelector('#no-file-restore');
  assert.equal(await vmop.locator('#browse-vm').count(), 0);
  await vmop.fill('#search-name', 'hostname');
  await vmop.click('#catalog-search button[type=submit]');
  await vmop.waitForSelector('#search-results tbody tr');
  assert.equal(await vmop.locator('#search-results .open-in-point, #search-results .restore-hit').count(), 0);
  // What the page does not offer, the API refuses.
  const c = new EmClient(server.http, 'json');
  await c.logOn('vmop', 'Vmop-pass-1');
  const [newest] = await points('web01');
  const refused = await c.request('POST', `${server.http}/api/catalog/vms/web01/vmRestorePoints/${newest.id}/guestfs/etc/hostname?action=restore`, { body: '{"ToOriginalLocation":{"Overwrite":true}}' });
  assert.equal(refused.status, 403);
  assert.equal((await c.request('POST', `${server.http}/api/vmRestorePoints/${newest.id}/mounts`)).status, 403);
});
