import { useState } from 'preact/hooks';
import { api, call, message } from './api/client.js';

/** Logon as EM's clients do it (logging_on.md): Basic credentials to the session manager; the answer sets the cookie. */
export function Logon({ onLogon }: { onLogon: () => void }) {
  const [user, setUser] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const submit = async (ev: Event) => {
    ev.preventDefault();
    setError('');
    setBusy(true);
    try {
      const auth = 'Basic ' + btoa(String.fromCharCode(...new TextEncoder().encode(`${user}:${password}`)));
      await call('POST', api('/sessionMngr/?v=latest'), undefined, { Authorization: auth });
      setPassword('');
      onLogon();
    } catch (e) {
      setError(message(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="logon-page">
      <form id="logon" class="card logon" aria-labelledby="logon-title" onSubmit={submit}>
        <h1 id="logon-title"><span class="brand-mark" aria-hidden="true">◆</span> openem</h1>
        <p class="muted">Restore portal — log on with your Enterprise Manager account</p>
        <label>User name <input id="user" name="user" autocomplete="username" autofocus required value={user} onInput={(e) => setUser(e.currentTarget.value)} /></label>
        <label>Password <input id="password" name="password" type="password" autocomplete="current-password" required value={password} onInput={(e) => setPassword(e.currentTarget.value)} /></label>
        <button type="submit" class="primary" disabled={busy}>{busy ? 'Logging on…' : 'Log on'}</button>
        <p class="error" id="logon-error" role="alert">{error}</p>
      </form>
    </main>
  );
}
