// audit.js: the audit log, newest first, filtered by actor, action and time.
import { call } from './api.js';
import { h, replace, table, when, showError, more, ask } from './dom.js';

const actions = ['user.disable', 'user.enable', 'user.setClaims', 'user.revokeTokens', 'user.erase', 'user.grantAdmin',
  'user.revokeAdmin', 'room.archive', 'room.unarchive', 'room.delete', 'message.redact', 'member.ban', 'member.unban',
  'report.dismiss', 'report.redact', 'report.ban'];

// rfc3339 turns a datetime-local value (the browser's local time) into UTC RFC 3339.
function rfc3339(v) {
  if (!v) return '';
  const d = new Date(v);
  return isNaN(d) ? '' : d.toISOString();
}

export async function render(root) {
  const actor = h('input', { id: 'audit-actor', placeholder: 'actor uid', size: 30 });
  const action = h('select', { id: 'audit-action' }, h('option', { value: '' }, 'any action'), actions.map((a) => h('option', { value: a }, a)));
  const since = h('input', { id: 'audit-since', type: 'datetime-local', title: 'from' });
  const until = h('input', { id: 'audit-until', type: 'datetime-local', title: 'until' });
  const results = h('div', { id: 'audit-results' });
  const filters = () => ({ actor: actor.value.trim(), action: action.value, since: rfc3339(since.value), until: rfc3339(until.value) });
  replace(root, h('h1', null, 'Audit log'),
    h('form', { className: 'inline', id: 'audit-filter', on: { submit: (ev) => {
      ev.preventDefault();
      list(results, filters(), '').catch((e) => showError(results, e));
    } } }, actor, action, h('label', null, 'from ', since), h('label', null, 'until ', until),
    h('button', { className: 'primary', type: 'submit', id: 'audit-show' }, 'Show')),
    results);
  await list(results, filters(), '');
}

async function list(results, f, pageToken) {
  const asked = ask(results);
  const d = await call('listAudit', {}, { query: { limit: 50, pageToken, actor: f.actor, action: f.action, since: f.since, until: f.until } });
  if (asked.stale()) return;
  const entries = d.entries || [];
  if (entries.length === 0) return replace(results, h('p', { className: 'muted' }, 'No entries.'));
  replace(results, table(['at', 'actor', 'action', 'target', 'reason', 'details'], entries.map((e) => ({
    attrs: { data: { action: e.action, target: e.target } },
    cells: [when(e.at), h('span', { className: 'mono' }, e.actorUid), e.action, h('span', { className: 'mono' }, e.target),
      e.reason || '', Object.entries(e.details || {}).map(([k, v]) => `${k}=${v}`).join(' ')],
  }))), more(d.nextPageToken, (next) => list(results, f, next)));
}
