import type { Command } from 'commander';
import { loadConfig } from '../config.js';
import { createLogger } from '../logger.js';
import { createBaseContext } from '../app-context.js';
import type { AuthContext } from '../services/auth/session-cache.js';
import { createAccount, listAccounts, removeAccount, setPassword, setRoleAndScope } from '../services/auth/accounts.js';
import { isRole, parseScope, ROLE_DISPLAY, type Role, type RestoreKind, FULL_SCOPE } from '../services/auth/roles.js';
import { badRequest } from '../errors.js';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

async function withContext<T>(fn: (ctx: AuthContext) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const ctx = await createBaseContext(config, createLogger('warn'), { announce: (l) => process.stderr.write(l + '\n') });
  try {
    return await fn(ctx);
  } finally {
    await ctx.store.close();
  }
}

async function passwordFrom(opts: { password?: string; passwordStdin?: boolean }): Promise<string> {
  if (opts.passwordStdin) return readStdin();
  if (opts.password !== undefined) return opts.password;
  throw badRequest('give the password with --password-stdin (or --password)');
}

function roleOf(s: string | undefined): Role | '' {
  if (s === undefined || s === 'none') return s === 'none' ? '' : 'portal-user';
  if (!isRole(s)) throw badRequest(`unknown role "${s}" (portal-admin | portal-user | restore-operator | none)`);
  return s;
}

function kindsOf(s: string | undefined): RestoreKind[] {
  if (!s) return ['vm', 'file'];
  const kinds = s.split(',').map((k) => k.trim());
  for (const k of kinds) if (k !== 'vm' && k !== 'file') throw badRequest(`unknown restore kind "${k}" (vm, file)`);
  return kinds as RestoreKind[];
}

/** `openem user add|passwd|list|rm|scope` — accounts, non-interactive so scripts can drive it. */
export function registerUserCommand(program: Command) {
  const user = program.command('user').description('manage accounts that may log on (acts on OPENEM_DATA_DIR / OPENEM_DATABASE_URL)');
  user
    .command('add <name>')
    .option('--password <password>', 'password (prefer --password-stdin)')
    .option('--password-stdin', 'read the password from standard input')
    .option('--role <role>', 'portal-admin | portal-user | restore-operator | none', 'portal-user')
    .option('--scope <scope>', 'vm:NAME,… | root:UID | datastore:ID | all (several joined by ;)')
    .option('--kinds <kinds>', 'restore kinds the role grants: vm,file', 'vm,file')
    .action(async (name: string, opts: { password?: string; passwordStdin?: boolean; role?: string; scope?: string; kinds?: string }) => {
      const password = await passwordFrom(opts);
      const role = roleOf(opts.role);
      const scope = opts.scope ? parseScope(opts.scope, kindsOf(opts.kinds)) : role === 'portal-admin' ? FULL_SCOPE : parseScope('', kindsOf(opts.kinds));
      await withContext((ctx) => createAccount(ctx, { name, password, role, scope }));
      process.stdout.write(`account ${name} added\n`);
    });
  user
    .command('passwd <name>')
    .option('--password <password>')
    .option('--password-stdin')
    .action(async (name: string, opts: { password?: string; passwordStdin?: boolean }) => {
      const password = await passwordFrom(opts);
      await withContext((ctx) => setPassword(ctx, name, password));
      process.stdout.write(`password of ${name} changed; its logon sessions were ended\n`);
    });
  user
    .command('scope <name>')
    .requiredOption('--scope <scope>', 'vm:NAME,… | root:UID | datastore:ID | all')
    .option('--kinds <kinds>', 'vm,file', 'vm,file')
    .option('--role <role>', 'also change the role')
    .action(async (name: string, opts: { scope: string; kinds?: string; role?: string }) => {
      const scope = parseScope(opts.scope, kindsOf(opts.kinds));
      await withContext((ctx) => setRoleAndScope(ctx, name, { scope, role: opts.role ? roleOf(opts.role) : undefined }));
      process.stdout.write(`scope of ${name} set\n`);
    });
  user
    .command('list')
    .option('--json', 'machine-readable output')
    .action(async (opts: { json?: boolean }) => {
      const accounts = await withContext((ctx) => listAccounts(ctx));
      if (opts.json) return void process.stdout.write(JSON.stringify(accounts, null, 2) + '\n');
      for (const a of accounts) {
        const scope = a.scope.all ? 'all' : [...a.scope.vms.map((v) => `vm:${v}`), ...a.scope.roots.map((r) => `root:${r}`), ...a.scope.datastores.map((d) => `datastore:${d}`)].join(' ') || '-';
        process.stdout.write(`${a.name}\t${a.role ? ROLE_DISPLAY[a.role] : '(no role)'}\t${scope}\t${a.scope.kinds.join(',')}\n`);
      }
    });
  user
    .command('rm <name>')
    .action(async (name: string) => {
      await withContext((ctx) => removeAccount(ctx, name));
      process.stdout.write(`account ${name} removed; its logon sessions were ended\n`);
    });
}
