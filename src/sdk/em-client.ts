import { send, type TransportOptions } from './http-transport.js';
import type { EmError, EmLink, EmReference, EmResource, EmRestoreSession, EmRestoreSpec, EmTask, EmVmRestorePoint } from './em-types.js';

/** An error answer of the API, with Enterprise Manager's Error body. */
export class EmApiError extends Error {
  constructor(
    readonly status: number,
    readonly error: EmError | undefined,
    url: string,
  ) {
    super(`${status}${error?.Status ? ` ${error.Status}` : ''} from ${url}: ${error?.Message ?? '(no Error body)'}`);
    this.name = 'EmApiError';
  }
}

export function findLink(resource: EmResource, rel: string, type?: string): EmLink | undefined {
  return resource.Links?.find((l) => l.Rel === rel && (type === undefined || l.Type === type));
}

export interface EmClientOptions extends TransportOptions {
  /** Base URL such as `https://em.example:9398`; `/api` is added. */
  server: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A typed client for Enterprise Manager's restore REST API, in JSON. It starts at `/api/` and follows links
 * (seed 003), so it works against openem and against Enterprise Manager itself.
 */
export class EmClient {
  private token?: string;
  private readonly base: string;

  constructor(private readonly options: EmClientOptions) {
    this.base = options.server.replace(/\/+$/, '').replace(/\/api$/, '') + '/api';
  }

  private async call<T>(method: string, url: string, body?: unknown, extraHeaders: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, unknown>; data: T }> {
    const headers: Record<string, string> = { Accept: 'application/json', ...extraHeaders };
    if (this.token) headers['X-RestSvcSessionId'] = this.token;
    let text: string | undefined;
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      text = JSON.stringify(body);
    }
    const res = await send(method, url, headers, text, this.options);
    const raw = res.body.toString('utf8');
    let data: unknown;
    try {
      data = raw ? JSON.parse(raw) : undefined;
    } catch {
      data = undefined;
    }
    if (res.status >= 400) throw new EmApiError(res.status, data as EmError | undefined, url);
    return { status: res.status, headers: res.headers, data: data as T };
  }

  /** `POST /sessionMngr/?v=latest` with HTTP Basic; keeps the session token for later calls. */
  async logOn(user: string, password: string, version = 'latest'): Promise<EmResource> {
    const auth = 'Basic ' + Buffer.from(`${user}:${password}`).toString('base64');
    const r = await this.call<EmResource>('POST', `${this.base}/sessionMngr/?v=${version}`, undefined, { Authorization: auth });
    const token = r.headers['x-restsvcsessionid'];
    if (typeof token !== 'string') throw new Error('the server did not return X-RestSvcSessionId');
    this.token = token;
    return r.data;
  }

  async logOff(session: EmResource): Promise<void> {
    const del = findLink(session, 'Delete');
    if (del) await this.call('DELETE', del.Href);
    this.token = undefined;
  }

  async get<T>(href: string): Promise<T> {
    return (await this.call<T>('GET', href)).data;
  }

  /** Every VM restore point as an entity, newest first (`/query?type=VmRestorePoint&format=Entities`). */
  async vmRestorePoints(vmName?: string): Promise<EmVmRestorePoint[]> {
    const filter = vmName ? `&filter=${encodeURIComponent(`VmDisplayName=="${vmName}"`)}` : '';
    // Query results nest the list in its wrapper, as EM's JSON does for every list type (em-clients.md "Reading").
    const r = await this.get<{ Entities?: { VmRestorePoints?: { VmRestorePoints?: EmVmRestorePoint[] | null } } }>(`${this.base}/query?type=VmRestorePoint&format=Entities&sortDesc=CreationTime${filter}`);
    return r.Entities?.VmRestorePoints?.VmRestorePoints ?? [];
  }

  /** Follows the point's `Restore` link: `202` + Task (seed 001). */
  async startVmRestore(point: EmVmRestorePoint, spec?: EmRestoreSpec): Promise<EmTask> {
    const link = findLink(point, 'Restore');
    if (!link) throw new Error(`restore point ${point.Name} has no Restore link`);
    return (await this.call<EmTask>('POST', link.Href, spec)).data;
  }

  /** Polls a task until it is Finished. */
  async waitForTask(task: EmTask, pollMs = 500): Promise<EmTask> {
    const href = findLink(task, 'Delete', 'Task')?.Href ?? task.Href!;
    let t = task;
    while (t.State !== 'Finished') {
      await sleep(pollMs);
      t = await this.get<EmTask>(href);
    }
    return t;
  }

  /** Follows the finished task's `Related` restore session and polls it until Stopped, reporting Progress. */
  async waitForRestoreSession(task: EmTask, onProgress?: (s: EmRestoreSession) => void, pollMs = 500): Promise<EmRestoreSession> {
    const related = findLink(task, 'Related', 'RestoreSession');
    if (!related) throw new Error(`task ${task.TaskId} has no Related restore session: ${task.Result?.Message ?? ''}`);
    for (;;) {
      const s = await this.get<EmRestoreSession>(related.Href);
      onProgress?.(s);
      if (s.State === 'Stopped') return s;
      await sleep(pollMs);
    }
  }

  /**
   * DELETE /tasks/{ID} ("Removes a task", delete_task_id). A task still running has its own work stopped; a restore
   * session the finished task started goes on (poll it with `waitForRestoreSession`).
   */
  async removeTask(task: EmTask): Promise<void> {
    const del = findLink(task, 'Delete', 'Task');
    if (del) await this.call('DELETE', del.Href);
  }

  references(href: string): Promise<{ Refs?: EmReference[] }> {
    return this.get(href);
  }
}
