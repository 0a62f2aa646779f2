// queue.js: the moderation queue — reported messages, one entry per
// message; resolve each by dismissing the reports, redacting the message or
// banning its sender.
import { call } from './api.js';
import { h, replace, table, when, toast, errorText, showError, more, ask } from './dom.js';

const reasons = ['spam', 'abuse', 'harassment', 'nudity', 'other'];

export async function render(root) {
  const status = h('select', { id: 'queue-status' }, h('option', { value: 'open' }, 'open'), h('option', { value: 'resolved' }, 'resolved'));
  const reason = h('select', { id: 'queue-reason' }, h('option', { value: '' }, 'any reason'), reasons.map((r) => h('option', { value: r }, r)));
  const roomId = h('input', { id: 'queue-room', placeholder: 'room id', size: 24 });
  const results = h('div', { id: 'queue-results' });
  const filters = () => ({ status: status.value, reason: reason.value, roomId: roomId.value.trim() });
  replace(root, h('h1', null, 'Moderation queue'),
    h('form', { className: 'inline', id: 'queue-filter', on: { submit: (ev) => {
      ev.preventDefault();
      list(results, filters(), '').catch((e) => showError(results, e));
    } } }, status, reason, roomId, h('button', { className: 'primary', type: 'submit' }, 'Show')),
    results);
  await list(results, filters(), '');
}

function reasonText(r) {
  return Object.entries(r || {}).map(([k, n]) => `${k} ×${n}`).join(', ');
}

async function list(results, f, pageToken) {
  const asked = ask(results);
  const d = await call('listReports', {}, { query: { status: f.status, reason: f.reason, roomId: f.roomId, limit: 25, pageToken } });
  if (asked.stale()) return;
  const reports = d.reports || [];
  if (reports.length === 0) return replace(results, h('p', { className: 'muted', id: 'queue-empty' }, f.status === 'open' ? 'No open reports.' : 'No reports.'));
  replace(results, table(['message', 'sender', 'text', 'reasons', 'reported', 'state', 'resolve'], reports.map((r) => ({
    attrs: { data: { report: r.id } },
    cells: [
      [h('span', { className: 'mono' }, r.roomId), ' / ', h('span', { className: 'mono' }, r.messageId)],
      h('span', { className: 'mono' }, r.senderId || ''),
      h('span', { className: 'report-text' }, r.text || ''),
      `${reasonText(r.reasons)} (${r.count})`,
      `${when(r.firstReportedAt)} – ${when(r.lastReportedAt)}`,
      [r.hidden ? h('span', { className: 'tag bad' }, 'hidden') : '', ' ',
        h('span', { className: 'report-status' }, r.status === 'resolved' && r.resolution ? `resolved: ${r.resolution.action} by ${r.resolution.by}` : r.status)],
      r.status === 'open' ? resolveControls(r, results, f) : '',
    ],
  }))), more(d.nextPageToken, (next) => list(results, f, next)));
}

function resolveControls(r, results, f) {
  const note = h('input', { className: 'report-note', placeholder: 'note (optional)', size: 18, maxLength: 500 });
  const resolve = (action) => async () => {
    try {
      await call('resolveReport', { id: r.id }, { body: { action, note: note.value } });
      toast(`Report ${action === 'dismiss' ? 'dismissed' : action === 'redact' ? 'resolved: message redacted' : 'resolved: sender banned'}.`);
      await list(results, f, '');
    } catch (e) { toast(errorText(e), true); }
  };
  return h('div', { className: 'row' }, note,
    h('button', { type: 'button', className: 'resolve-dismiss', on: { click: resolve('dismiss') } }, 'Dismiss'),
    h('button', { type: 'button', className: 'resolve-redact', on: { click: resolve('redact') } }, 'Redact'),
    h('button', { type: 'button', className: 'resolve-ban danger', on: { click: resolve('ban') } }, 'Ban sender'));
}
