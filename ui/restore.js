// The restore operator's page. It speaks the same Enterprise Manager API as any script (JSON form); the
// logon cookie (HttpOnly, Path=/api) carries the session, so the page never holds the token.
const $ = (id) => document.getElementById(id);
const api = (path) => `/api${path}`;
let pollTimer;

async function call(method, url, body, headers = {}) {
  const res = await fetch(url, {
    method,
    credentials: 'same-origin',
    headers: { Accept: 'application/json', 'X-Requested-With': 'XMLHttpRequest', ...(body ? { 'Content-Type': 'application/json' } : {}), ...headers },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  const data = text ? JSON.parse(text) : undefined;
  if (!res.ok) throw new Error(data?.Message ?? `${res.status} ${res.statusText}`);
  return data;
}

const link = (r, rel, type) => (r.Links ?? []).find((l) => l.Rel === rel && (!type || l.Type === type));

function cell(tr, text) {
  const td = document.createElement('td');
  td.textContent = text;
  tr.append(td);
  return td;
}

async function loadPoints() {
  const vm = $('filter').value.trim();
  const filter = vm ? `&filter=${encodeURIComponent(`VmDisplayName=="${vm}"`)}` : '';
  const r = await call('GET', api(`/query?type=VmRestorePoint&format=Entities&sortDesc=CreationTime${filter}`));
  const body = $('points').tBodies[0];
  body.replaceChildren();
  for (const p of r.Entities?.VmRestorePoints?.VmRestorePoints ?? []) {
    const tr = document.createElement('tr');
    tr.dataset.uid = p.UID;
    cell(tr, p.VmDisplayName);
    cell(tr, p.CreationTimeUTC);
    cell(tr, p.PointType);
    const button = document.createElement('button');
    button.textContent = 'Restore VM';
    button.addEventListener('click', () => restore(p));
    cell(tr, '').append(button);
    body.append(tr);
  }
}

async function restore(point) {
  $('restore-error').textContent = '';
  const spec = { VmRestoreSpec: { PowerOnAfterRestore: $('power-on').checked, QuickRollback: $('quick-rollback').checked } };
  if ($('keep-original').checked) spec.VmRestoreSpec.KeepOriginalVM = true;
  try {
    await call('POST', link(point, 'Restore').Href, spec);
    await loadSessions();
  } catch (e) {
    $('restore-error').textContent = e.message;
  }
}

async function loadSessions() {
  const r = await call('GET', api('/restoreSessions?format=Entity'));
  const body = $('sessions').tBodies[0];
  body.replaceChildren();
  for (const s of r.RestoreSessions ?? []) {
    const tr = document.createElement('tr');
    tr.dataset.uid = s.UID;
    cell(tr, s.Name);
    cell(tr, s.JobType);
    cell(tr, s.State).className = 'state';
    cell(tr, s.Result).className = 'result';
    const bar = document.createElement('progress');
    bar.max = 100;
    bar.value = s.Progress ?? 0;
    cell(tr, '').append(bar);
    if (s.FailureMessage) tr.title = s.FailureMessage;
    body.append(tr);
  }
}

async function showApp(userName) {
  $('logon').hidden = true;
  $('app').hidden = false;
  $('logoff').hidden = false;
  $('who').textContent = userName;
  await loadPoints();
  await loadSessions();
  pollTimer = setInterval(() => loadSessions().catch(() => {}), 1000);
}

$('logon').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  $('logon-error').textContent = '';
  try {
    const auth = 'Basic ' + btoa(unescape(encodeURIComponent(`${$('user').value}:${$('password').value}`)));
    const session = await call('POST', api('/sessionMngr/?v=latest'), undefined, { Authorization: auth });
    sessionStorage.setItem('logoff', link(session, 'Delete')?.Href ?? '');
    $('password').value = '';
    await showApp(session.UserName);
  } catch (e) {
    $('logon-error').textContent = e.message;
  }
});

$('filter').addEventListener('change', () => loadPoints().catch((e) => ($('restore-error').textContent = e.message)));

$('logoff').addEventListener('click', async () => {
  clearInterval(pollTimer);
  const href = sessionStorage.getItem('logoff');
  if (href) await call('DELETE', href).catch(() => {});
  location.reload();
});
