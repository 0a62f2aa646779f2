// rooms.js: list or find rooms, see members and roles, archive/unarchive,
// delete (after typing the room id).
import { call } from './api.js';
import { h, replace, table, when, toast, errorText, showError, more } from './dom.js';

export async function render(root) {
  const q = h('input', { id: 'room-query', placeholder: 'room id', size: 32 });
  const archived = h('select', { id: 'room-archived' },
    h('option', { value: '' }, 'live and archived'), h('option', { value: 'false' }, 'live'), h('option', { value: 'true' }, 'archived'));
  const type = h('select', { id: 'room-type' },
    h('option', { value: '' }, 'any type'), h('option', { value: 'group' }, 'group'), h('option', { value: 'direct' }, 'direct'));
  const results = h('div', { id: 'room-results' });
  const detail = h('div', { id: 'room-detail' });
  const filters = () => ({ archived: archived.value, type: type.value });
  const find = async (ev) => {
    if (ev) ev.preventDefault();
    replace(detail);
    try {
      if (q.value.trim()) {
        replace(results);
        return await open(detail, q.value.trim());
      }
      await list(results, detail, filters(), '');
    } catch (e) {
      showError(results, e);
    }
  };
  replace(root, h('h1', null, 'Rooms'),
    h('form', { className: 'inline', id: 'room-find', on: { submit: find } }, q, archived, type,
      h('button', { className: 'primary', type: 'submit' }, 'Find')),
    results, detail);
  await list(results, detail, filters(), '');
}

async function list(results, detail, f, pageToken) {
  const d = await call('listRooms', {}, { query: { limit: 25, pageToken, archived: f.archived, type: f.type } });
  const rooms = d.rooms || [];
  if (rooms.length === 0) return replace(results, h('p', { className: 'muted' }, 'No rooms.'));
  replace(results, table(['id', 'type', 'title', 'members', 'messages', 'created', 'status', ''], rooms.map((r) => ({
    attrs: { data: { room: r.id } },
    cells: [h('span', { className: 'mono' }, r.id), r.type, r.title || '', String(r.memberCount), String(r.messageCount), when(r.createdAt),
      r.archived ? h('span', { className: 'tag' }, 'archived') : '',
      h('button', { type: 'button', on: { click: () => open(detail, r.id).catch((e) => toast(errorText(e), true)) } }, 'Open')],
  }))), more(d.nextPageToken, (next) => list(results, detail, f, next)));
}

async function open(detail, roomId) {
  const r = await call('getRoom', { roomId });
  const reason = h('input', { id: 'room-reason', placeholder: 'reason (audited, optional)', size: 40, maxLength: 500 });
  const body = () => (reason.value ? { reason: reason.value } : {});
  const act = (op, done) => async () => {
    try {
      await call(op, { roomId }, { body: body() });
      toast(done);
      if (op === 'deleteRoom') return replace(detail, h('p', { className: 'ok', id: 'room-deleted' }, `Room ${roomId} deleted.`));
      await open(detail, roomId);
    } catch (e) { toast(errorText(e), true); }
  };
  const confirm = h('input', { id: 'room-delete-confirm', placeholder: 'type the room id to delete', size: 32 });
  const del = h('button', { type: 'button', className: 'danger', id: 'room-delete', disabled: true, on: { click: act('deleteRoom', 'Room deleted.') } }, 'Delete room');
  confirm.addEventListener('input', () => { del.disabled = confirm.value !== roomId; });
  replace(detail, h('div', { className: 'card' },
    h('h2', null, 'Room ', h('span', { id: 'room-title' }, r.title || r.id)),
    h('p', { className: 'muted' }, `${r.type} · ${r.memberCount} members · ${r.messageCount} messages · created ${when(r.createdAt)} by `,
      h('span', { className: 'mono' }, r.createdBy), r.archived ? ' · archived' : ''),
    table(['uid', 'name', 'role', 'joined', 'status'], (r.members || []).map((m) => ({
      cells: [h('span', { className: 'mono' }, m.uid), m.displayName || '', m.role, when(m.joinedAt),
        m.banned ? h('span', { className: 'tag bad' }, `banned ${when(m.bannedAt)}`) : ''],
    })), { id: 'room-members' }),
    h('h2', null, 'Actions'),
    h('div', { className: 'row' }, reason,
      r.archived
        ? h('button', { type: 'button', id: 'room-unarchive', on: { click: act('unarchiveRoom', 'Room unarchived.') } }, 'Unarchive')
        : h('button', { type: 'button', id: 'room-archive', on: { click: act('archiveRoom', 'Room archived (read-only).') } }, 'Archive')),
    h('div', { className: 'row' }, confirm, del)));
}
