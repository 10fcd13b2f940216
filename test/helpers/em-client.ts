import { XMLParser } from 'fast-xml-parser';
import { ADMIN_PASSWORD } from './server-process.js';

/** A deliberately small Enterprise Manager client for tests: logs on, sends requests, follows links. */
export type Format = 'xml' | 'json';

const xml = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false,
  parseAttributeValue: false,
  // Repeated elements become arrays below the root; a root element (a single Task, LogonSession…) stays an object.
  isArray: (name, jpath) => String(jpath).includes('.') && ['Link', 'Ref', 'SupportedVersion', 'LogonSession', 'Task', 'RestoreSession', 'VmRestorePoint', 'FileEntry', 'DirectoryEntry', 'VmRestorePointMount'].includes(name),
});

export interface EmResponse {
  status: number;
  headers: Headers;
  text: string;
  /** The parsed body: XML with its root element as the only key, or JSON. */
  body: any;
}

export function parseXml(text: string): any {
  return xml.parse(text);
}

export class EmClient {
  token?: string;
  constructor(readonly base: string, readonly format: Format = 'xml') {}

  async logOn(user = 'admin', password = ADMIN_PASSWORD, version = 'latest'): Promise<EmResponse> {
    const r = await this.request('POST', `${this.base}/api/sessionMngr/?v=${version}`, { headers: { Authorization: 'Basic ' + Buffer.from(`${user}:${password}`).toString('base64') } });
    if (r.status === 201) this.token = r.headers.get('x-restsvcsessionid') ?? undefined;
    return r;
  }

  async request(method: string, url: string, options: { body?: string; contentType?: string; headers?: Record<string, string> } = {}): Promise<EmResponse> {
    const headers: Record<string, string> = { Accept: this.format === 'json' ? 'application/json' : 'application/xml', ...options.headers };
    if (this.token) headers['X-RestSvcSessionId'] = this.token;
    if (options.body !== undefined) headers['Content-Type'] = options.contentType ?? (this.format === 'json' ? 'application/json' : 'application/xml');
    const res = await fetch(url, { method, headers, body: options.body });
    const text = await res.text();
    let body: any;
    const type = res.headers.get('content-type') ?? '';
    if (text && type.includes('json')) body = JSON.parse(text);
    else if (text && type.includes('xml')) body = parseXml(text);
    return { status: res.status, headers: res.headers, text, body };
  }

  get(url: string) {
    return this.request('GET', url);
  }
}

/** Links of a resource in either format: XML `{Links:{Link:[...]}}` or JSON `{Links:[...]}`. */
export function linksOf(resource: any): { Rel: string; Type?: string; Href: string; Name?: string }[] {
  const l = resource?.Links;
  if (!l) return [];
  return Array.isArray(l) ? l : (l.Link ?? []);
}

export function findLink(resource: any, rel: string, type?: string) {
  return linksOf(resource).find((l) => l.Rel === rel && (type === undefined || l.Type === type));
}

/** Polls until `done` returns a value, or fails after `timeoutMs`. */
export async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 60_000, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/**
 * Follows a resource's link to one of openem's own resources (Rel `openem:Details`, Type `openem:<type>`,
 * README "openem's own resources") and returns its root element in either format.
 */
export async function openemDetails(c: EmClient, resource: any, type: string): Promise<any> {
  const link = findLink(resource, 'openem:Details', `openem:${type}`);
  if (!link) throw new Error(`no openem:${type} link in ${JSON.stringify(linksOf(resource))}`);
  const r = await c.get(link.Href);
  if (r.status !== 200) throw new Error(`GET ${link.Href}: ${r.status} ${r.text.slice(0, 300)}`);
  if (c.format === 'json') return r.body;
  if (!r.text.includes('xmlns="urn:openem:api:v1"')) throw new Error(`openem:${type} is not in openem's namespace: ${r.text.slice(0, 200)}`);
  return r.body[type];
}
