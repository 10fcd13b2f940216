// An openem process in the middle of a backup, for repo-gc-beside-cli-backup.test.ts: it opens the application on the
// data directory argv[2] as the CLI does, begins a backup of VM argv[3] (taking the repository's backup lease in the
// state store), prints `holding` and waits to be killed.
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { createBaseContext } from '../../src/app-context.js';
import { attachServices } from '../../src/attach-services.js';

const [dataDir, vmId] = process.argv.slice(2);
const base = await createBaseContext(loadConfig({ env: {}, flags: { dataDir, adminPassword: process.env.OPENEM_ADMIN_PASSWORD } }), createLogger('silent'), { announce: () => {} });
const ctx = await attachServices(base, { demo: false, startTasks: false });
await ctx.repository.beginBackup(vmId);
process.stdout.write('holding\n');
setInterval(() => {}, 1 << 30);
