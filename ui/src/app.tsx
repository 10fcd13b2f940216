import { useEffect, useState } from 'preact/hooks';
import { call, link, message } from './api/client.js';
import { currentAccount, type Account } from './account.js';
import { Logon } from './logon.js';
import { go, useRoute } from './route.js';
import { VmsView } from './views/vms-view.js';
import { FilesView } from './views/files-view.js';
import { SessionsView } from './views/sessions-view.js';
import { DashboardView } from './views/dashboard-view.js';

interface ViewDef {
  id: string;
  title: string;
  allowed: (a: Account) => boolean;
}

const VIEWS: ViewDef[] = [
  { id: 'dashboard', title: 'Dashboard', allowed: (a) => a.CanReadReports },
  { id: 'vms', title: 'VMs', allowed: () => true },
  { id: 'files', title: 'Files', allowed: () => true },
  { id: 'sessions', title: 'Sessions', allowed: () => true },
];

export function App() {
  const [account, setAccount] = useState<Account | undefined | null>(null);
  const [error, setError] = useState('');
  const route = useRoute();

  const load = () => currentAccount().then(setAccount, (e) => setError(message(e)));
  useEffect(() => void load(), []);

  if (account === null) return <main class="logon-page"><p class="muted" role="status">{error || 'Loading…'}</p></main>;
  if (!account) return <Logon onLogon={load} />;

  const views = VIEWS.filter((v) => v.allowed(account));
  const view = views.find((v) => v.id === route.view) ?? views[0];
  const logoff = async () => {
    // The caller's own logon session (the account's Up link); deleting it is logging off (logging_off.md).
    const own = link(account, 'Up', 'LogonSession');
    if (own) await call('DELETE', own.Href).catch(() => undefined);
    setAccount(undefined);
    history.replaceState(null, '', '/ui/');
  };
  return (
    <div class="shell">
      <header class="topbar">
        <a class="brand" href="#/"><span class="brand-mark" aria-hidden="true">◆</span> openem</a>
        <nav aria-label="Views" class="tabs">
          {views.map((v) => (
            <a href={`#/${v.id}`} class={v === view ? 'tab active' : 'tab'} aria-current={v === view ? 'page' : undefined}>{v.title}</a>
          ))}
        </nav>
        <div class="who">
          <span id="who">{account.UserName}</span>
          <span class="role" id="role">{account.Role}</span>
          <button id="logoff" onClick={logoff}>Log off</button>
        </div>
      </header>
      <main id="app" class="content" aria-label={view.title}>
        {view.id === 'dashboard' && <DashboardView />}
        {view.id === 'vms' && <VmsView account={account} />}
        {view.id === 'files' && <FilesView account={account} params={route.params} />}
        {view.id === 'sessions' && <SessionsView account={account} params={route.params} />}
      </main>
    </div>
  );
}

export { go };
