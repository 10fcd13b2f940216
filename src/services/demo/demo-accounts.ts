import { randomBytes } from 'node:crypto';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BaseContext } from '../../context.js';
import { createAccount, findAccountByName } from '../auth/accounts.js';
import { parseScope, parseStoredScope, ROLE_DISPLAY } from '../auth/roles.js';

/** The demo's Restore Operator: two of the four demo VMs, so the portal shows what a restore scope hides. */
export const DEMO_OPERATOR = { name: 'operator', scope: 'vm:web01,files01' } as const;
/** The KVM demo's Restore Operator scope: one of its two guests. */
export const KVM_DEMO_OPERATOR_SCOPE = 'vm:kvm-web01';

interface Kept {
  admin?: string;
  operator?: string;
}

const keptFile = (ctx: BaseContext) => join(ctx.config.dataDir, 'demo-logons.json');

/**
 * `serve --demo`'s logons (issue #16): the administrator and a Restore Operator, with the passwords generated for
 * them, kept in the private data directory (0600) so every later demo start on a terminal shows them again. Only
 * passwords openem generated are kept; one set through OPENEM_ADMIN_PASSWORD is the operator's own and never written.
 */
export async function demoLogons(ctx: BaseContext, generatedAdminPassword?: string, operatorScope: string = DEMO_OPERATOR.scope): Promise<{ user: string; password?: string; role: string }[]> {
  let kept: Kept = {};
  try {
    kept = JSON.parse(await readFile(keptFile(ctx), 'utf8')) as Kept;
  } catch {
    kept = {};
  }
  let changed = false;
  if (generatedAdminPassword) {
    kept.admin = generatedAdminPassword;
    changed = true;
  }
  const existing = await findAccountByName(ctx, DEMO_OPERATOR.name);
  let vms = existing ? parseStoredScope(existing.scope).vms : [];
  if (!existing) {
    const password = randomBytes(12).toString('base64url');
    const scope = parseScope(operatorScope);
    await createAccount(ctx, { name: DEMO_OPERATOR.name, password, role: 'restore-operator', scope });
    vms = scope.vms;
    kept.operator = password;
    changed = true;
  }
  if (changed) {
    // An existing file is made private before the secrets go in (writeFile's mode applies only to a new one).
    await chmod(keptFile(ctx), 0o600).catch(() => undefined);
    await writeFile(keptFile(ctx), JSON.stringify(kept, null, 2) + '\n', { mode: 0o600 });
  }
  return [
    { user: 'admin', password: kept.admin ?? (ctx.config.adminPassword !== undefined ? '(OPENEM_ADMIN_PASSWORD)' : undefined), role: ROLE_DISPLAY['portal-admin'] },
    { user: DEMO_OPERATOR.name, password: kept.operator, role: `${ROLE_DISPLAY['restore-operator']} (${vms.join(', ')})` },
  ];
}
