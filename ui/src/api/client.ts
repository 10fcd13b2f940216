// The portal speaks the server's API as any client does, in JSON (Accept: application/json). The logon cookie
// (HttpOnly, Path=/api) carries the session, so the page never holds the token.

/** A refusal or failure, in the API's own words (the EM Error body's Message). */
export class ApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

export interface Link {
  Rel: string;
  Href: string;
  Type?: string;
  Name?: string;
}

export interface Linked {
  Links?: Link[];
  Href?: string;
}

/** An href the server gave, made relative to this page's origin (the server writes absolute hrefs for its own host). */
export function local(href: string): string {
  const u = new URL(href, location.href);
  return u.pathname + u.search;
}

export const api = (path: string) => `/api${path}`;

export async function call<T = any>(method: string, url: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
  const res = await fetch(local(url), {
    method,
    credentials: 'same-origin',
    headers: {
      Accept: 'application/json',
      'X-Requested-With': 'XMLHttpRequest',
      ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
      ...headers,
    },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  let data: any;
  try {
    data = text ? JSON.parse(text) : undefined;
  } catch {
    data = undefined;
  }
  if (!res.ok) throw new ApiError(res.status, data?.Message ?? `${res.status} ${res.statusText}`);
  return data as T;
}

export const get = <T = any>(url: string) => call<T>('GET', url);

export function link(r: Linked | undefined, rel: string, type?: string): Link | undefined {
  return (r?.Links ?? []).find((l) => l.Rel === rel && (!type || l.Type === type));
}

/** A task the API answered 202 with: polled until it is Finished; its Result's Message is the reason it failed. */
export interface Task extends Linked {
  TaskId: string;
  State: string;
  Operation: string;
  Result?: { Success: boolean; Message?: string };
}

export async function waitForTask(task: Task, timeoutMs = 120_000): Promise<Task> {
  const deadline = Date.now() + timeoutMs;
  let t = task;
  while (t.State !== 'Finished') {
    if (Date.now() > deadline) throw new ApiError(0, `Task ${t.TaskId} (${t.Operation}) did not finish in time`);
    await new Promise((r) => setTimeout(r, 300));
    t = await get<Task>(t.Href ?? api(`/tasks/${t.TaskId}`));
  }
  if (t.Result && !t.Result.Success) throw new ApiError(0, t.Result.Message || `${t.Operation} failed`);
  return t;
}

export const message = (e: unknown) => (e instanceof Error ? e.message : String(e));
