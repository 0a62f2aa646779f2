// api.js calls Hearth's admin API. operations is the console's only list of
// the calls it makes: every one is a documented /admin/v1 operation of
// /openapi.json (a test compares this table with the document).
import { idToken, refresh } from './auth.js';

export const operations = {
  listUsers: ['GET', '/admin/v1/users'],
  getUser: ['GET', '/admin/v1/users/{uid}'],
  eraseUser: ['DELETE', '/admin/v1/users/{uid}'],
  disableUser: ['POST', '/admin/v1/users/{uid}/disable'],
  enableUser: ['POST', '/admin/v1/users/{uid}/enable'],
  setClaims: ['PUT', '/admin/v1/users/{uid}/claims'],
  revokeTokens: ['POST', '/admin/v1/users/{uid}/revoke-tokens'],
  listRooms: ['GET', '/admin/v1/rooms'],
  getRoom: ['GET', '/admin/v1/rooms/{roomId}'],
  deleteRoom: ['DELETE', '/admin/v1/rooms/{roomId}'],
  archiveRoom: ['POST', '/admin/v1/rooms/{roomId}/archive'],
  unarchiveRoom: ['POST', '/admin/v1/rooms/{roomId}/unarchive'],
  listAudit: ['GET', '/admin/v1/audit'],
  stats: ['GET', '/admin/v1/stats'],
  overview: ['GET', '/admin/v1/overview'],
  listReports: ['GET', '/admin/v1/reports'],
  resolveReport: ['POST', '/admin/v1/reports/{id}/resolve'],
};

// ApiError is a non-2xx answer, with the API's error code.
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

// call performs operation name with path parameters params, query (an
// object; empty values left out) and body (JSON).
export async function call(name, params = {}, { query, body } = {}) {
  const op = operations[name];
  if (!op) throw new Error(`unknown operation ${name}`);
  const [method, template] = op;
  let path = template.replace(/\{(\w+)\}/g, (_, k) => {
    if (params[k] === undefined || params[k] === '') throw new Error(`${name}: ${k} missing`);
    return encodeURIComponent(params[k]);
  });
  if (query) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') q.set(k, v);
    const s = q.toString();
    if (s) path += '?' + s;
  }
  const send = async (token) => fetch(path, {
    method,
    credentials: 'omit',
    headers: Object.assign({ Authorization: 'Bearer ' + token }, body !== undefined ? { 'Content-Type': 'application/json' } : {}),
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  let r = await send(await idToken());
  if (r.status === 401) {
    // An expired or revoked token: one refresh, one retry.
    try { await refresh(); } catch { /* the retry reports the 401 */ }
    r = await send(await idToken());
  }
  if (r.status === 204) return null;
  let data = null;
  try { data = await r.json(); } catch { data = null; }
  if (!r.ok) {
    const e = (data && data.error) || {};
    throw new ApiError(r.status, e.code || `HTTP_${r.status}`, e.message || r.statusText);
  }
  return data;
}
