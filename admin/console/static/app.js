// app.js is the console's entry point: sign-in, the admin gate and the
// page router (#/overview, #/users, #/rooms, #/queue, #/audit).
import { loadConfig, signInWithPassword, signInWithGoogle, startGoogleRedirect, finishGoogleRedirect, signOut, current } from './auth.js';
import { h, replace, errorText, showError } from './dom.js';
import * as overview from './overview.js';
import * as users from './users.js';
import * as rooms from './rooms.js';
import * as queue from './queue.js';
import * as audit from './audit.js';

const pages = { overview, users, rooms, queue, audit };
const main = document.getElementById('main');
const nav = document.getElementById('nav');
const who = document.getElementById('who');
const signOutButton = document.getElementById('signout');

// notAdmin is the page for a signed-in account without the admin claim.
function notAdmin(detail) {
  nav.hidden = true;
  replace(main, h('div', { className: 'card signin', id: 'not-admin' },
    h('h1', null, 'Not an admin'),
    h('p', null, 'You are signed in as ', h('strong', null, (current() && current().email) || 'this account'),
      ', which does not have the admin claim. The console is for Hearth administrators only.'),
    detail ? h('p', { className: 'muted' }, detail) : null,
    h('p', null, 'An operator can grant it with ', h('code', null, 'hearth users grant-admin EMAIL'), '; then sign in again.'),
    h('button', { type: 'button', on: { click: doSignOut } }, 'Sign in with another account')));
}

function doSignOut() {
  signOut();
  location.hash = '';
  showSignIn();
}

function showSignIn(message) {
  nav.hidden = true;
  signOutButton.hidden = true;
  replace(who);
  const status = h('p', { id: 'signin-status', className: message ? 'error' : 'muted' }, message || '');
  const email = h('input', { id: 'email', type: 'email', placeholder: 'Email', autocomplete: 'username', required: true });
  const password = h('input', { id: 'password', type: 'password', placeholder: 'Password', autocomplete: 'current-password', required: true });
  const form = h('form', { id: 'signin-form', on: { submit: async (ev) => {
    ev.preventDefault();
    replace(status, 'Signing in…');
    status.className = 'muted';
    try {
      await signInWithPassword(email.value.trim(), password.value);
      password.value = '';
      afterSignIn();
    } catch (e) {
      status.className = 'error';
      replace(status, errorText(e));
    }
  } } }, email, password, h('button', { className: 'primary', type: 'submit', id: 'signin' }, 'Sign in'));
  const googleEmail = h('input', { id: 'google-email', type: 'email', placeholder: 'Google account email (emulator)', hidden: true });
  const google = h('div', { id: 'google', hidden: true }, h('h2', null, 'Or with Google'), googleEmail,
    h('button', { type: 'button', id: 'google-signin', on: { click: async () => {
      try {
        const c = await loadConfig();
        if (!c.emulator) {
          replace(status, 'Going to Google…');
          status.className = 'muted';
          await startGoogleRedirect();
          return;
        }
        await signInWithGoogle(googleEmail.value.trim());
        afterSignIn();
      } catch (e) {
        status.className = 'error';
        replace(status, errorText(e));
      }
    } } }, 'Sign in with Google'));
  loadConfig().then((c) => { google.hidden = false; googleEmail.hidden = !c.emulator; }, () => {});
  replace(main, h('div', { className: 'card signin' }, h('h1', null, 'Sign in'), form, google, status));
}

function afterSignIn() {
  const s = current();
  if (!s) return showSignIn();
  replace(who, s.email || s.uid);
  signOutButton.hidden = false;
  if (s.claims.admin !== true) return notAdmin();
  nav.hidden = false;
  if (!location.hash || location.hash === '#') location.hash = '#/overview';
  else route();
}

async function route() {
  const s = current();
  if (!s) return showSignIn();
  if (s.claims.admin !== true) return notAdmin();
  const name = (location.hash.replace(/^#\/?/, '').split('/')[0]) || 'overview';
  const page = pages[name] || overview;
  for (const a of nav.querySelectorAll('a')) a.classList.toggle('active', a.dataset.page === name);
  const root = h('section', { id: 'page-' + name });
  replace(main, root);
  try {
    await page.render(root);
  } catch (e) {
    if (e.status === 403 && e.code === 'ADMIN_CLAIM_REQUIRED') return notAdmin('The API refused the account: ' + errorText(e));
    root.appendChild(h('p', { className: 'error' }, errorText(e)));
  }
}

signOutButton.addEventListener('click', doSignOut);
window.addEventListener('hashchange', route);
// A page load may be the return from Google's consent page.
loadConfig().then(async () => {
  try {
    if (await finishGoogleRedirect()) return afterSignIn();
  } catch (e) {
    return showSignIn(errorText(e));
  }
  showSignIn();
}, (e) => showError(main, e));
