// dom.js builds elements without ever parsing HTML: strings become text
// nodes, so user-supplied text (names, messages, reasons) shows literally.

// h makes an element: h('td', {className: 'x', on: {click: fn}}, 'text', child).
// Attributes are set as properties (never as markup); "on" adds listeners;
// "data" sets data-* attributes.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null) continue;
      if (k === 'on') {
        for (const [ev, fn] of Object.entries(v)) el.addEventListener(ev, fn);
      } else if (k === 'data') {
        for (const [dk, dv] of Object.entries(v)) el.dataset[dk] = String(dv);
      } else {
        el[k] = v;
      }
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
}

// text is a text node: the one way the console shows data it did not write.
export function text(s) {
  return document.createTextNode(s === undefined || s === null ? '' : String(s));
}

// replace empties el and puts children in it.
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

// when formats an RFC 3339 time for a table cell ('' when absent).
export function when(t) {
  if (!t) return '';
  const d = new Date(t);
  return isNaN(d) ? String(t) : d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

// table builds a table: head is a list of column titles, rows a list of
// arrays of cells (strings or nodes).
export function table(head, rows, attrs) {
  return h('table', attrs,
    h('thead', null, h('tr', null, head.map((t) => h('th', null, t)))),
    h('tbody', null, rows.map((r) => h('tr', r.attrs || null, r.cells.map((c) => h('td', null, c))))));
}

let toastTimer;
// toast shows a short message in the corner.
export function toast(msg, isError) {
  const el = document.getElementById('toast');
  replace(el, h('span', { className: isError ? 'error' : 'ok' }, msg));
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => el.replaceChildren(), 6000);
}

// errorText is a readable line for an API or Auth error.
export function errorText(err) {
  if (err && err.code) return `${err.status || ''} ${err.code}: ${err.message}`.trim();
  return String(err && err.message ? err.message : err);
}

// showError puts err, as text, into el in place of what it held.
export function showError(el, err) {
  replace(el, h('p', { className: 'error' }, errorText(err)));
}

// more is the button that loads the next page of a list (load(pageToken)),
// or null when there is no next page.
export function more(pageToken, load) {
  return pageToken ? h('button', { type: 'button', on: { click: () => load(pageToken) } }, 'More') : null;
}

// ask marks a new request for what results shows: an answer whose request is not the
// latest (a slow first list arriving after a search) is stale and not shown.
const asks = new WeakMap();
export function ask(results) {
  const n = (asks.get(results) || 0) + 1;
  asks.set(results, n);
  return { stale: () => asks.get(results) !== n };
}
