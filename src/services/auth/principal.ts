import type { RestoreScope, Role } from './roles.js';

/**
 * The identities the auth services hand around, in a file of their own so that the session cache, the
 * accounts and the logon sessions can all name them without importing each other in a circle.
 */
export interface Account {
  id: string;
  name: string;
  role: Role | '';
  scope: RestoreScope;
  createdAt: number;
  passwordChangedAt: number;
}

export interface LogonSession {
  id: string;
  accountId: string;
  userName: string;
  createdAt: number;
  lastSeenAt: number;
  address: string;
}

/** The request's identity once its token checks out. */
export interface Principal {
  session: LogonSession;
  account: Account;
  /** The session's secret `SessionId` GUID, decoded from the caller's own token (never stored). */
  sessionId: string;
}
