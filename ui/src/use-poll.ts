import { useEffect, useRef, useState } from 'preact/hooks';
import { message } from './api/client.js';

/**
 * Loads `load()` now and every `everyMs` while the view is shown (never two at once); `reload` loads at once.
 * Errors show in the API's words and do not stop the polling.
 */
export function usePoll<T>(load: () => Promise<T>, everyMs: number | undefined, deps: unknown[] = []) {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState('');
  const busy = useRef(false);
  const latest = useRef(load);
  latest.current = load;
  const run = async () => {
    if (busy.current) return;
    busy.current = true;
    try {
      setData(await latest.current());
      setError('');
    } catch (e) {
      setError(message(e));
    } finally {
      busy.current = false;
    }
  };
  useEffect(() => {
    void run();
    if (!everyMs) return;
    const t = setInterval(() => void run(), everyMs);
    return () => clearInterval(t);
  }, deps);
  return { data, error, reload: run };
}
