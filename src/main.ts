#!/usr/bin/env node
import { Command } from 'commander';
import { VERSION } from './version.js';
import { registerServeCommand } from './cli/serve.js';
import { registerUserCommand } from './cli/user.js';
import { registerAuditCommand } from './cli/audit.js';
import { registerVmCommand } from './cli/vm.js';
import { registerBackupCommand } from './cli/backup.js';
import { registerJobCommand } from './cli/job.js';
import { registerRepoCommand } from './cli/repo.js';
import { registerClientCommand } from './cli/client.js';
import { loadConfig } from './config.js';

const program = new Command();
program.name('openem').description('Enterprise Manager-compatible restore server').version(VERSION);
registerServeCommand(program);
registerUserCommand(program);
registerAuditCommand(program);
registerVmCommand(program, () => loadConfig().dataDir);
registerBackupCommand(program);
registerJobCommand(program);
registerRepoCommand(program);
registerClientCommand(program);

program.parseAsync(process.argv).catch((e: unknown) => {
  process.stderr.write(`openem: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
