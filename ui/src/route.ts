import { useEffect, useState } from 'preact/hooks';

/** The view and its parameters live in the URL's hash (`#/files?vm=web01`), so reloads and links keep them. */
export interface Route {
  view: string;
  params: URLSearchParams;
}

export function parseRoute(hash = location.hash): Route {
  const [path, query] = hash.replace(/^#\/?/, '').split('?');
  return { view: path || '', params: new URLSearchParams(query ?? '') };
}

export function go(view: string, params: Record<string, string | undefined> = {}): void {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, v);
  const s = q.toString();
  location.hash = `#/${view}${s ? `?${s}` : ''}`;
}

export function useRoute(): Route {
  const [route, setRoute] = useState(parseRoute());
  useEffect(() => {
    const on = () => setRoute(parseRoute());
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return route;
}
