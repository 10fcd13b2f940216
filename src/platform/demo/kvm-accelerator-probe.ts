import { access, constants } from 'node:fs/promises';
import { spawnHelper } from '../../host/helper-process.js';

/** What the kernel prints first once it runs in 64-bit mode (with `earlyprintk`). */
const KERNEL_RUNS = /Linux version \d/;

/**
 * Whether KVM really runs a Linux guest on this machine, not only whether /dev/kvm opens: under some nested
 * hypervisors (seen in a Firecracker VM) /dev/kvm works, yet a Linux kernel hangs right after it decompresses.
 * The kernel is booted under KVM with no disk and no initramfs, printing on its serial port; it runs when it
 * prints its version within `timeoutMs` (a working KVM does in well under a second). QEMU is stopped either way.
 */
export async function kvmRunsLinux(kernel: string, timeoutMs = 20_000): Promise<boolean> {
  if (!(await access('/dev/kvm', constants.R_OK | constants.W_OK).then(() => true, () => false))) return false;
  const qemu = await spawnHelper(
    'qemu-system-x86_64',
    ['-accel', 'kvm', '-m', '128', '-display', 'none', '-serial', 'stdio', '-monitor', 'none', '-no-reboot', '-nodefaults', '-kernel', kernel, '-append', 'console=ttyS0 earlyprintk=serial,ttyS0 panic=-1'],
    { debianPackage: 'qemu-system-x86' },
  );
  try {
    return await new Promise<boolean>((resolve) => {
      let seen = '';
      const timer = setTimeout(() => resolve(false), timeoutMs);
      qemu.child.stdout!.on('data', (d: Buffer) => {
        seen = (seen + d.toString('latin1')).slice(-4096);
        if (KERNEL_RUNS.test(seen)) {
          clearTimeout(timer);
          resolve(true);
        }
      });
      void qemu.exited.then(() => {
        clearTimeout(timer);
        resolve(KERNEL_RUNS.test(seen));
      });
    });
  } finally {
    await qemu.stop('SIGKILL');
  }
}
