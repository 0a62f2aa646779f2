// users.js: find a user by email or uid; disable/enable, revoke sessions,
// edit custom claims, erase (after typing the uid).
import { call } from './api.js';
import { h, replace, table, when, toast, errorText, showError, more, ask } from './dom.js';

export async function render(root) {
  const q = h('input', { id: 'user-query', placeholder: 'email or uid', size: 40 });
  const results = h('div', { id: 'user-results' });
  const detail = h('div', { id: 'user-detail' });
  const find = async (ev) => {
    if (ev) ev.preventDefault();
    replace(detail);
    const v = q.value.trim();
    const asked = ask(results);
    try {
      if (v === '') return list(results, detail, '');
      if (v.includes('@')) {
        const d = await call('listUsers', {}, { query: { email: v } });
        if (asked.stale()) return;
        return showList(results, detail, d.users || [], '');
      }
      replace(results);
      await open(detail, v);
    } catch (e) {
      showError(results, e);
    }
  };
  replace(root, h('h1', null, 'Users'),
    h('form', { className: 'inline', id: 'user-find', on: { submit: find } }, q,
      h('button', { className: 'primary', type: 'submit', id: 'user-find-button' }, 'Find')),
    results, detail);
  await list(results, detail, '');
}

async function list(results, detail, pageToken) {
  const asked = ask(results);
  const d = await call('listUsers', {}, { query: { limit: 25, pageToken } });
  if (asked.stale()) return;
  showList(results, detail, d.users || [], d.nextPageToken);
}


function showList(results, detail, users, next) {
  if (users.length === 0) return replace(results, h('p', { className: 'muted' }, 'No users found.'));
  replace(results, table(['uid', 'email', 'name', 'status', ''], users.map((u) => ({
    attrs: { data: { uid: u.uid } },
    cells: [h('span', { className: 'mono' }, u.uid), u.email || '', u.displayName || '',
      [u.disabled ? h('span', { className: 'tag bad' }, 'disabled') : '', u.admin ? h('span', { className: 'tag' }, 'admin') : ''],
      h('button', { type: 'button', className: 'open-user', on: { click: () => open(detail, u.uid).catch((e) => toast(errorText(e), true)) } }, 'Open')],
  }))), more(next, (token) => list(results, detail, token)));
}

async function open(detail, uid) {
  const d = await call('getUser', { uid });
  const u = d.user;
  const name = (d.profile && d.profile.displayName) || u.displayName || '';
  const reason = h('input', { id: 'user-reason', placeholder: 'reason (audited, optional)', size: 40, maxLength: 500 });
  const act = (op, done) => async () => {
    try {
      const out = await call(op, { uid }, { body: reason.value ? { reason: reason.value } : {} });
      toast(done);
      if (op === 'eraseUser') {
        replace(detail, h('p', { className: 'ok', id: 'user-erased' }, `Erased ${uid}: ${out.messagesAnonymised} messages anonymised, ${out.roomsLeft} rooms left.`));
        return;
      }
      await open(detail, uid);
    } catch (e) {
      toast(errorText(e), true);
    }
  };
  const claims = h('textarea', { id: 'user-claims', value: JSON.stringify(u.customClaims || {}, null, 2) });
  const saveClaims = async () => {
    let parsed;
    try { parsed = JSON.parse(claims.value); } catch (e) { return toast('Claims are not valid JSON: ' + e.message, true); }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return toast('Claims must be a JSON object.', true);
    try {
      await call('setClaims', { uid }, { body: { claims: parsed, reason: reason.value || undefined } });
      toast('Claims saved; the user signs in again to get them.');
      await open(detail, uid);
    } catch (e) { toast(errorText(e), true); }
  };
  const confirm = h('input', { id: 'user-erase-confirm', placeholder: 'type the uid to erase', size: 40 });
  const erase = h('button', { type: 'button', className: 'danger', id: 'user-erase', disabled: true, on: { click: act('eraseUser', 'User erased.') } }, 'Erase user');
  confirm.addEventListener('input', () => { erase.disabled = confirm.value !== uid; });
  replace(detail, h('div', { className: 'card', data: { uid } },
    h('h2', null, 'User ', h('span', { id: 'user-name' }, name || '(no name)')),
    table(['field', 'value'], [
      ['uid', h('span', { className: 'mono', id: 'user-uid' }, u.uid)],
      ['email', u.email || ''],
      ['status', h('span', { id: 'user-status', className: u.disabled ? 'error' : 'ok' }, u.disabled ? 'disabled' : 'active')],
      ['admin', u.admin ? 'yes' : 'no'],
      ['providers', (u.providers || []).join(', ')],
      ['created', when(u.createdAt)], ['last sign-in', when(u.lastSignInAt)],
      ['tokens valid after', when(u.tokensValidAfter)], ['devices', String(d.deviceCount)],
    ].map((r) => ({ cells: r }))),
    h('h2', null, 'Actions'),
    h('div', { className: 'row' }, reason),
    h('div', { className: 'row' },
      u.disabled
        ? h('button', { type: 'button', id: 'user-enable', on: { click: act('enableUser', 'User enabled.') } }, 'Enable')
        : h('button', { type: 'button', id: 'user-disable', className: 'danger', on: { click: act('disableUser', 'User disabled; their sessions ended.') } }, 'Disable'),
      h('button', { type: 'button', id: 'user-revoke', on: { click: act('revokeTokens', 'Sessions revoked.') } }, 'Revoke sessions')),
    h('h2', null, 'Custom claims'), claims,
    h('div', { className: 'row' }, h('button', { type: 'button', id: 'user-claims-save', on: { click: saveClaims } }, 'Save claims')),
    h('h2', null, 'Erase'),
    h('p', { className: 'muted' }, 'Erasing deletes the account and its data; messages stay, anonymised. Type the uid to confirm.'),
    h('div', { className: 'row' }, confirm, erase)));
}
