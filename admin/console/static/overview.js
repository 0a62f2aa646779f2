// overview.js: counts and health at a glance. A figure Hearth does not have
// (a metric this API process does not record) shows "n/a" with the reason.
import { call } from './api.js';
import { h, replace, table, when } from './dom.js';

function na(v, fmt) {
  return v === null || v === undefined ? h('span', { className: 'muted', title: 'not recorded by this process' }, 'n/a') : (fmt ? fmt(v) : String(v));
}

function seconds(s) {
  if (s < 120) return `${Math.round(s)} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

function card(title, value, note) {
  return h('div', { className: 'card' }, h('div', { className: 'muted' }, title), h('div', { className: 'metric' }, value),
    note ? h('div', { className: 'muted' }, note) : null);
}

export async function render(root) {
  const [o, s] = await Promise.all([call('overview'), call('stats')]);
  const max = Math.max(1, ...o.messagesPerDay.map((d) => d.messages));
  const bar = (n) => { const b = h('span', { className: 'bar' }); b.style.width = `${Math.round((n / max) * 200)}px`; return b; };
  const rejected = Object.entries(o.mediaRejected || {});
  replace(root, h('h1', null, 'Overview'),
    h('div', { className: 'cards', id: 'overview-cards' },
      card('Users (profiles)', String(s.users)),
      card('Rooms', String(s.rooms), `${s.groupRooms} group · ${s.directRooms} direct · ${s.archivedRooms} archived`),
      card('Messages', String(s.messages)),
      card(`Active users (${o.activeUsersWindow})`, na(o.activeUsers), 'presence heartbeat in the window'),
      card('Pushes sent / failed', [na(o.pushesSent), ' / ', na(o.pushesFailed)], o.pushesSent === null ? 'recorded by the events role: see its /metrics' : 'since this process started'),
      card('Digest queue', String(o.digestQueue.pending) + ' pending', ['oldest overdue: ', na(o.digestQueue.oldestOverdueSeconds, seconds)]),
      card('Trigger lag', na(o.triggerLagSeconds, seconds), o.triggerLagSeconds === null ? 'recorded by the events role: see its /metrics' : 'mean event age when handled'),
    ),
    h('h2', null, 'Messages per day (UTC)'),
    table(['day', 'messages', ''], o.messagesPerDay.map((d) => ({ cells: [d.day, String(d.messages), bar(d.messages)] })), { id: 'overview-days' }),
    h('h2', null, 'Media rejected, by reason'),
    rejected.length === 0
      ? h('p', { className: 'muted' }, 'None.')
      : table(['reason', 'messages'], rejected.map(([k, n]) => ({ cells: [k, String(n)] }))),
    o.mediaRejectedTruncated ? h('p', { className: 'muted' }, `Counted over ${o.mediaRejectedScanned} rejected uploads (the most read at once).`) : null,
    h('p', { className: 'muted' }, `Generated ${when(o.generatedAt)}.`));
}
