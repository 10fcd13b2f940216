import { chmod, copyFile, mkdir, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { badRequest, OpenemError } from '../../errors.js';
import { requireTool } from '../../host/find-tool.js';
import { runHelper } from '../../host/helper-process.js';
import { INITTAB, POWER_BUTTON, RCK, GUEST_DOWN_MARKER, GUEST_UP_MARKER, initramfsInit, rcS } from './kvm-guest-scripts.js';

export { GUEST_DOWN_MARKER, GUEST_UP_MARKER } from './kvm-guest-scripts.js';

/** Where Debian's packages put what a guest is built from (linux-image-cloud-amd64, busybox-static). */
const BOOT_DIR = '/boot';
const MODULES_DIR = '/lib/modules';
const BUSYBOX = '/bin/busybox';
const QEMU_GA = '/usr/sbin/qemu-ga';

/** The modules the initramfs loads: the virtio disk and console (the guest agent's port), the ACPI power button. */
const WANTED_MODULES = ['virtio_pci', 'virtio_blk', 'virtio_console', 'button', 'evdev'];

export interface BootableGuestOptions {
  /** The folder the kernel, initramfs and disk image are written to (made if missing). */
  dir: string;
  /** The guest's host name, also its filesystem label: letters, digits and '-'. */
  name: string;
  /** Size of the root disk in bytes (the image is sparse). */
  diskSize: number;
  /** Files put into the guest's root at build time: guest path (relative, '/'-separated) → content. */
  files?: Record<string, string | Buffer>;
  /** From the second boot on, each boot writes /data/boot-<n>.bin of this many MiB of random bytes (default 0). */
  changeMiBPerBoot?: number;
  /** When > 0, the running guest rewrites its heartbeat every this many seconds (default 0: once per boot). */
  heartbeatSeconds?: number;
  /**
   * Runs the QEMU guest agent (Debian's qemu-ga and the shared libraries it links, copied in) on the virtio port
   * `org.qemu.guest_agent.0`, so live backups can freeze the guest's filesystems (the domain needs the channel).
   */
  guestAgent?: boolean;
}

/** A guest that boots by direct kernel boot: `<os><kernel>…<initrd>…<cmdline>…` and `disk` as its `vda`. */
export interface BootableGuest {
  kernel: string;
  initrd: string;
  cmdline: string;
  /** The root disk: a raw, sparse image holding an ext4 filesystem on the whole disk (no partition table). */
  disk: string;
  kernelVersion: string;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}

/** The newest cloud kernel in /boot whose modules are installed (any other kernel when there is none). */
async function installedKernel(): Promise<string> {
  const versions: string[] = [];
  for (const v of await readdir(MODULES_DIR).catch((): string[] => [])) {
    if (await exists(join(BOOT_DIR, `vmlinuz-${v}`))) versions.push(v);
  }
  const cloud = versions.filter((v) => v.endsWith('-cloud-amd64'));
  const newest = (cloud.length ? cloud : versions).sort((a, b) => a.localeCompare(b, 'en', { numeric: true })).pop();
  if (!newest) throw new OpenemError('UNAVAILABLE', "no kernel with modules in /boot and /lib/modules; install the Debian package 'linux-image-cloud-amd64'");
  return newest;
}

/**
 * The module files to load, dependencies first, from the kernel's own modules.dep (`path: dep dep…`, kmod's
 * format); a module built into this kernel (modules.builtin) needs no file.
 */
export async function moduleLoadOrder(version: string, wanted: readonly string[]): Promise<string[]> {
  const root = join(MODULES_DIR, version);
  const deps = new Map<string, string[]>();
  for (const line of (await readFile(join(root, 'modules.dep'), 'utf8')).split('\n')) {
    const [path, rest] = line.split(':');
    if (path && rest !== undefined) deps.set(path.trim(), rest.trim().split(/\s+/).filter(Boolean));
  }
  const builtin = new Set((await readFile(join(root, 'modules.builtin'), 'utf8').catch(() => '')).split('\n').map(moduleName));
  const byName = new Map([...deps.keys()].map((p) => [moduleName(p), p]));
  const order: string[] = [];
  const visit = (path: string) => {
    if (order.includes(path)) return;
    for (const d of deps.get(path) ?? []) visit(d);
    order.push(path);
  };
  for (const name of wanted) {
    const path = byName.get(name);
    if (path) visit(path);
    else if (!builtin.has(name)) throw new OpenemError('UNAVAILABLE', `kernel ${version} has no module ${name}`);
  }
  return order.map((p) => join(root, p));
}

function moduleName(path: string): string {
  return (path.split('/').pop() ?? '').replace(/\.ko(\.\w+)?$/, '').replace(/-/g, '_');
}

/** The initramfs: busybox, the modules and /init, as a newc cpio archive (GNU cpio, names on its stdin). */
async function buildInitramfs(tree: string, out: string, modules: string[]): Promise<void> {
  const cpio = await requireTool('cpio', 'cpio');
  for (const d of ['bin', 'dev', 'proc', 'sys', 'newroot', 'lib/modules']) await mkdir(join(tree, d), { recursive: true });
  await copyFile(BUSYBOX, join(tree, 'bin/busybox'));
  const names = modules.map((m) => m.split('/').pop()!);
  for (const [i, m] of modules.entries()) await copyFile(m, join(tree, 'lib/modules', names[i]));
  await writeFile(join(tree, 'init'), initramfsInit(names), { mode: 0o755 });
  const entries = ['.', 'bin', 'bin/busybox', 'dev', 'proc', 'sys', 'newroot', 'lib', 'lib/modules', ...names.map((n) => `lib/modules/${n}`), 'init'];
  await runHelper(cpio, ['--quiet', '-o', '-H', 'newc', '--reproducible', '-F', out], { cwd: tree, input: Buffer.from(entries.join('\n') + '\n'), debianPackage: 'cpio' });
}

function assertGuestPath(p: string): string[] {
  const parts = p.split('/');
  if (p.startsWith('/') || parts.some((x) => x === '' || x === '.' || x === '..')) throw badRequest(`guest file '${p}' is not a relative path inside the guest`);
  return parts;
}

/** The root filesystem's tree: busybox with every applet linked, init's scripts, /data and the caller's files. */
async function writeRootTree(root: string, opts: BootableGuestOptions): Promise<void> {
  for (const d of ['bin', 'sbin', 'usr/bin', 'usr/sbin', 'etc/init.d', 'etc/acpi/PWRF', 'dev', 'proc', 'sys', 'run', 'tmp', 'var', 'data', 'root']) {
    await mkdir(join(root, d), { recursive: true });
  }
  await copyFile(BUSYBOX, join(root, 'bin/busybox'));
  const applets = (await runHelper(BUSYBOX, ['--list-full'], { debianPackage: 'busybox-static' })).stdout.split('\n').filter(Boolean);
  for (const a of applets) {
    if (a === 'bin/busybox' || a.includes('..')) continue;
    await mkdir(join(root, dirname(a)), { recursive: true });
    await symlink('/bin/busybox', join(root, a)).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'EEXIST') throw e;
    });
  }
  const behaviour = { name: opts.name, changeMiBPerBoot: opts.changeMiBPerBoot ?? 0, heartbeatSeconds: opts.heartbeatSeconds ?? 0 };
  await writeFile(join(root, 'etc/inittab'), INITTAB);
  await writeFile(join(root, 'etc/init.d/rcS'), rcS(behaviour), { mode: 0o755 });
  await writeFile(join(root, 'etc/init.d/rcK'), RCK, { mode: 0o755 });
  await writeFile(join(root, 'etc/acpi/PWRF/00000080'), POWER_BUTTON, { mode: 0o755 });
  await writeFile(join(root, 'etc/hostname'), `${opts.name}\n`);
  for (const [path, content] of Object.entries(opts.files ?? {})) {
    const target = join(root, ...assertGuestPath(path));
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, content);
  }
  if (opts.guestAgent) await copyWithLibraries(QEMU_GA, root);
  await chmod(join(root, 'tmp'), 0o1777);
}

/** A dynamically linked program and what `ldd` says it loads (the loader included), at the same paths in `root`. */
async function copyWithLibraries(program: string, root: string): Promise<void> {
  if (!(await exists(program))) throw new OpenemError('UNAVAILABLE', `no ${program}; install the Debian package 'qemu-guest-agent'`);
  const ldd = await runHelper('ldd', [program]);
  const libraries = ldd.stdout.split('\n').flatMap((l) => /(\/\S+) \(0x[0-9a-f]+\)/.exec(l)?.[1] ?? []);
  for (const file of [program, ...libraries]) {
    const target = join(root, file);
    await mkdir(dirname(target), { recursive: true });
    await copyFile(file, target);
    await chmod(target, 0o755);
  }
}

/**
 * Builds a guest that really boots: Debian's cloud kernel, a small initramfs of busybox and the virtio modules,
 * and an ext4 root disk (busybox init) that counts its boots in /var/heartbeat and prints GUEST_UP_MARKER on
 * its serial console ttyS0. The root has no journal: openem's ext4 reader does not replay one, so a live
 * backup of a guest that synced reads exactly what the guest wrote. Its inode tables are zeroed at build time,
 * or the guest's kernel would zero them after its first boots (16 MiB of a 256 MiB disk) as a background write.
 */
export async function buildBootableGuest(opts: BootableGuestOptions): Promise<BootableGuest> {
  if (!/^[a-z0-9][a-z0-9-]{0,15}$/i.test(opts.name)) throw badRequest(`guest name '${opts.name}' must be 1-16 letters, digits or '-'`);
  if (!Number.isSafeInteger(opts.diskSize) || opts.diskSize < 16 * 2 ** 20) throw badRequest('a bootable guest needs a disk of at least 16 MiB');
  for (const n of [opts.changeMiBPerBoot ?? 0, opts.heartbeatSeconds ?? 0]) if (!Number.isInteger(n) || n < 0) throw badRequest('changeMiBPerBoot and heartbeatSeconds are whole numbers');
  if (!(await exists(BUSYBOX))) throw new OpenemError('UNAVAILABLE', "no /bin/busybox; install the Debian package 'busybox-static'");
  const mke2fs = await requireTool('mke2fs', 'e2fsprogs');
  const version = await installedKernel();
  const modules = await moduleLoadOrder(version, WANTED_MODULES);
  await mkdir(opts.dir, { recursive: true });
  const guest: BootableGuest = {
    kernel: join(opts.dir, `vmlinuz-${version}`),
    initrd: join(opts.dir, `initramfs-${opts.name}.cpio`),
    cmdline: 'console=ttyS0 root=/dev/vda rw quiet',
    disk: join(opts.dir, `${opts.name}-root.img`),
    kernelVersion: version,
  };
  const work = join(opts.dir, `.build-${opts.name}`);
  await rm(work, { recursive: true, force: true });
  try {
    await copyFile(join(BOOT_DIR, `vmlinuz-${version}`), guest.kernel);
    await buildInitramfs(join(work, 'initramfs'), guest.initrd, modules);
    await writeRootTree(join(work, 'root'), opts);
    await rm(guest.disk, { force: true });
    await runHelper(
      mke2fs,
      ['-q', '-F', '-t', 'ext4', '-O', '^has_journal', '-L', opts.name, '-d', join(work, 'root'), '-E', 'nodiscard,lazy_itable_init=0', guest.disk, `${Math.floor(opts.diskSize / 1024)}k`],
      { debianPackage: 'e2fsprogs' },
    );
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  return guest;
}
