// auth.js signs an administrator in with Firebase Auth's REST API (the same
// endpoints the Firebase SDKs call): accounts:signInWithPassword and
// accounts:signInWithIdp on Identity Toolkit, token refresh on Secure
// Token. Where they live comes from /console/config.json (the Auth emulator
// under `hearth dev`, Google's hosts in production). The tokens are kept in
// this module's memory only: no web storage, no cookies; a reload signs out.
//
// Google sign-in in production is Identity Toolkit's redirect flow, with no
// Google script in the page: accounts:createAuthUri gives Google's consent
// URL for a random sessionId, the page navigates there, Google sends the
// browser back to /console/ with its response in the URL, and
// accounts:signInWithIdp exchanges that URL and the sessionId for tokens.
// The navigation drops this module's memory, so the sessionId alone (never
// a token) waits in the tab's session storage for the return, and is
// removed then.

let config = null;
let session = null; // {idToken, refreshToken, expiresAt (ms), uid, email, claims}

// AuthError is a failed sign-in or refresh, with Firebase's error code.
export class AuthError extends Error {
  constructor(code, message) {
    super(message || code);
    this.code = code;
  }
}

const messages = {
  EMAIL_NOT_FOUND: 'No account with this email and password.',
  INVALID_PASSWORD: 'No account with this email and password.',
  INVALID_LOGIN_CREDENTIALS: 'No account with this email and password.',
  USER_DISABLED: 'This account is disabled.',
  TOO_MANY_ATTEMPTS_TRY_LATER: 'Too many attempts; try again later.',
  TOKEN_EXPIRED: 'The session ended; sign in again.',
  INVALID_REFRESH_TOKEN: 'The session ended; sign in again.',
  NEED_CONFIRMATION: 'An account with this email exists with another sign-in method; sign in with that.',
};

// loadConfig reads where to sign in.
export async function loadConfig() {
  if (config) return config;
  const r = await fetch('config.json', { credentials: 'omit', cache: 'no-store' });
  if (!r.ok) throw new Error(`console config: HTTP ${r.status}`);
  config = await r.json();
  return config;
}

async function post(url, body, form) {
  const r = await fetch(url, {
    method: 'POST',
    credentials: 'omit',
    headers: { 'Content-Type': form ? 'application/x-www-form-urlencoded' : 'application/json' },
    body: form ? new URLSearchParams(body).toString() : JSON.stringify(body),
  });
  let data = null;
  try { data = await r.json(); } catch { data = null; }
  if (!r.ok) {
    const raw = (data && data.error && data.error.message) || `HTTP ${r.status}`;
    const code = raw.split(/[ :]/)[0];
    throw new AuthError(code, messages[code] || raw);
  }
  return data;
}

function keyed(base, path) {
  return `${base}${path}?key=${encodeURIComponent(config.apiKey)}`;
}

// claimsOf decodes an ID token's payload (for display and routing only: the
// API verifies the token and reads the live admin claim itself).
export function claimsOf(idToken) {
  const part = idToken.split('.')[1] || '';
  const b64 = part.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(part.length / 4) * 4, '=');
  const bin = atob(b64);
  const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes));
}

function keep(idToken, refreshToken, expiresIn) {
  const claims = claimsOf(idToken);
  session = {
    idToken, refreshToken,
    expiresAt: Date.now() + Number(expiresIn || 3600) * 1000,
    uid: claims.user_id || claims.sub, email: claims.email || '', claims,
  };
  return session;
}

// signInWithPassword signs in with email and password.
export async function signInWithPassword(email, password) {
  await loadConfig();
  const d = await post(keyed(config.identityToolkit, '/v1/accounts:signInWithPassword'),
    { email, password, returnSecureToken: true });
  return keep(d.idToken, d.refreshToken, d.expiresIn);
}

// signInWithGoogle signs in with the Google provider against the Auth
// emulator, which accepts a fake Google id_token (strict JSON claims) as its
// own sign-in widget sends but does not implement createAuthUri for
// identity providers. Production uses startGoogleRedirect.
export async function signInWithGoogle(email) {
  await loadConfig();
  if (!config.emulator) throw new AuthError('GOOGLE_NOT_CONFIGURED', 'Google sign-in is offered with the Auth emulator only.');
  const fake = JSON.stringify({ sub: `google-${email}`, email, email_verified: true });
  const d = await post(keyed(config.identityToolkit, '/v1/accounts:signInWithIdp'), {
    requestUri: location.origin + location.pathname,
    postBody: new URLSearchParams({ id_token: fake, providerId: 'google.com' }).toString(),
    returnSecureToken: true, returnIdpCredential: true,
  });
  return keep(d.idToken, d.refreshToken, d.expiresIn);
}

// googleSessionKey is the session storage key of the pending redirect's
// sessionId.
const googleSessionKey = 'hearth.console.googleSessionId';

function randomId() {
  const b = new Uint8Array(32);
  crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

// startGoogleRedirect asks Identity Toolkit for Google's consent URL and
// navigates there; Google sends the browser back to this page.
export async function startGoogleRedirect() {
  await loadConfig();
  const sessionId = randomId();
  const continueUri = location.origin + location.pathname;
  const d = await post(keyed(config.identityToolkit, '/v1/accounts:createAuthUri'),
    { providerId: 'google.com', continueUri, sessionId });
  let to = null;
  try { to = new URL(d.authUri); } catch { to = null; }
  if (!to || (to.protocol !== 'https:' && to.protocol !== 'http:')) {
    throw new AuthError('INVALID_AUTH_URI', 'Firebase Auth returned no usable Google sign-in address.');
  }
  sessionStorage.setItem(googleSessionKey, d.sessionId || sessionId);
  location.assign(to.href);
}

// finishGoogleRedirect completes a sign-in this page started with
// startGoogleRedirect, when the browser has come back with the IdP's
// response in the URL. It returns the session, or null when no redirect is
// pending. The sessionId is removed from storage and the response from the
// address bar whatever the outcome.
export async function finishGoogleRedirect() {
  let sessionId = null;
  try {
    sessionId = sessionStorage.getItem(googleSessionKey);
    sessionStorage.removeItem(googleSessionKey);
  } catch { sessionId = null; }
  if (!sessionId) return null;
  const requestUri = location.href;
  history.replaceState(null, '', location.pathname);
  if (!new URL(requestUri).search) {
    throw new AuthError('GOOGLE_CANCELLED', 'Google sign-in did not complete; try again.');
  }
  await loadConfig();
  const d = await post(keyed(config.identityToolkit, '/v1/accounts:signInWithIdp'),
    { requestUri, sessionId, returnSecureToken: true });
  if (!d.idToken) {
    const code = (d.errorMessage || (d.needConfirmation ? 'NEED_CONFIRMATION' : 'INVALID_IDP_RESPONSE')).split(/[ :]/)[0];
    throw new AuthError(code, messages[code] || 'Google sign-in was refused: ' + code);
  }
  return keep(d.idToken, d.refreshToken, d.expiresIn);
}

// current returns the session or null.
export function current() { return session; }

// signOut forgets the tokens.
export function signOut() { session = null; }

// idToken returns a fresh ID token, refreshing it through Secure Token when
// it expires within a minute.
export async function idToken() {
  if (!session) throw new AuthError('SIGNED_OUT', 'Not signed in.');
  if (Date.now() < session.expiresAt - 60_000) return session.idToken;
  await refresh();
  return session.idToken;
}

// refresh exchanges the refresh token for a new ID token.
export async function refresh() {
  if (!session) throw new AuthError('SIGNED_OUT', 'Not signed in.');
  const d = await post(keyed(config.secureToken, '/v1/token'),
    { grant_type: 'refresh_token', refresh_token: session.refreshToken }, true);
  return keep(d.id_token, d.refresh_token, d.expires_in);
}
