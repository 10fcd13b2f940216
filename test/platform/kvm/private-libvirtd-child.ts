// A process that owns a private libvirt daemon, for private-libvirtd.test.ts: it starts the daemon on the folder
// argv[2], prints its run folder and waits to be killed (SIGKILL: nothing of its own clean-up runs).
import { startPrivateLibvirtd } from '../../../src/platform/kvm/private-libvirtd.js';

const lv = await startPrivateLibvirtd({ dir: process.argv[2] });
process.stdout.write(`ready ${lv.runDir}\n`);
setInterval(() => {}, 1 << 30);
