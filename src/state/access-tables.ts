import type { Generated } from 'kysely';

// The tables of who may log on and what they did: accounts, logon sessions, failed logons, the audit trail. Database
// (schema.ts) names them and gives the column conventions.

export interface AccountsTable {
  id: string;
  name: string;
  password_hash: string;
  /** portal-admin | portal-user | restore-operator | '' (no role: cannot log on). */
  role: string;
  /** JSON RestoreScope. */
  scope: string;
  created_at: number;
  password_changed_at: number;
}

export interface LogonSessionsTable {
  id: string;
  /** SHA-256 of the token; the token itself is never stored. */
  token_hash: string;
  account_id: string;
  user_name: string;
  created_at: number;
  last_seen_at: number;
  address: string;
}

/** Failed logons per client address (`a:…`) and per account name (`u:…`), counted by every node (`logon-throttle.ts`). */
export interface LogonFailuresTable {
  key: string;
  failures: number;
  first_at: number;
  locked_until: number;
}

export interface AuditTable {
  seq: Generated<number>;
  at: number;
  user_name: string;
  address: string;
  action: string;
  target: string;
  result: string;
  detail: string;
}
