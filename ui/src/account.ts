import { ApiError, api, get, type Linked } from './api/client.js';

/** The caller as openem's `/openem/currentAccount` describes them: the portal offers only what this allows. */
export interface Account extends Linked {
  UserName: string;
  Role: string;
  AllVms: boolean;
  ScopeVms: { Name: string }[];
  CanRestoreVms: boolean;
  CanRestoreFiles: boolean;
  CanReadReports: boolean;
  CanStopBackupSessions: boolean;
}

/** The account of the logon session the cookie carries, or undefined when there is none (401). */
export async function currentAccount(): Promise<Account | undefined> {
  try {
    return await get<Account>(api('/openem/currentAccount'));
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return undefined;
    throw e;
  }
}
