// Warren management console: a small single-page UI over the RabbitMQ-compatible HTTP API (/api).
// No framework and no build step. Every request carries HTTP basic auth from sessionStorage.
'use strict';
(function () {
  const AUTH_KEY = 'warren.console.auth';
  const USER_KEY = 'warren.console.user';
  const TAGS_KEY = 'warren.console.tags';
  const REFRESH_MS = 5000;
  const HISTORY_MS = 10 * 60 * 1000;

  const state = {
    auth: sessionStorage.getItem(AUTH_KEY),
    user: sessionStorage.getItem(USER_KEY),
    tags: storedTags(),  // null until whoami answers
    page: null,        // {refresh, every}
    token: 0,          // bumped on every navigation; stale refreshes check it
    timer: null,
    busy: false,
    vhosts: null,      // cached names for form selects
    rates: [],         // overview history: {t, publish, deliver_get, ack}
    lengths: [],       // overview history: {t, ready, unacked}
    seeded: false,
  };

  function storedTags() {
    try { return parseTags(JSON.parse(sessionStorage.getItem(TAGS_KEY))); } catch (e) { return null; }
  }

  // ---------- DOM helpers ----------

  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else if (k === 'class') el.className = v;
      else if (k === 'style') Object.assign(el.style, v);  // CSSOM: allowed by a strict CSP
      else if (k === 'value') el.value = v;
      else if (k === 'text') el.textContent = v;
      else el.setAttribute(k, v === true ? '' : v);
    }
    append(el, children);
    return el;
  }

  function append(el, children) {
    for (const c of children) {
      if (c === null || c === undefined || c === false) continue;
      if (Array.isArray(c)) append(el, c);
      else el.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return el;
  }

  function replace(el, ...children) {
    el.textContent = '';
    return append(el, children);
  }

  const $ = (sel, root) => (root || document).querySelector(sel);

  // ---------- formatting ----------

  const nf = new Intl.NumberFormat('en-US');
  function num(n) { return n === undefined || n === null ? '–' : nf.format(n); }
  function rate(r) {
    if (r === undefined || r === null) return '–';
    if (r === 0) return '0.0/s';
    if (r < 1) return r.toFixed(2) + '/s';
    if (r < 100) return r.toFixed(1) + '/s';
    return nf.format(Math.round(r)) + '/s';
  }
  function bytes(b) {
    if (b === undefined || b === null) return '–';
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let i = 0;
    while (b >= 1024 && i < units.length - 1) { b /= 1024; i++; }
    return (i === 0 ? b : b.toFixed(b < 10 ? 1 : 0)) + ' ' + units[i];
  }
  function duration(ms) {
    if (ms === undefined || ms === null) return '–';
    let s = Math.floor(ms / 1000);
    const d = Math.floor(s / 86400); s %= 86400;
    const hr = Math.floor(s / 3600); s %= 3600;
    const m = Math.floor(s / 60); s %= 60;
    if (d) return `${d}d ${hr}h`;
    if (hr) return `${hr}h ${m}m`;
    if (m) return `${m}m ${s}s`;
    return `${s}s`;
  }
  function detailRate(obj, key) {
    const d = obj && obj[key + '_details'];
    return d && typeof d.rate === 'number' ? d.rate : (obj && key in obj ? 0 : null);
  }
  function msgRate(item, key) { return detailRate(item && item.message_stats, key); }
  function tags(t) { return Array.isArray(t) ? t.join(', ') : (t || ''); }
  function json(v) { return JSON.stringify(v); }
  function exName(name) { return name === '' ? '(AMQP default)' : name; }
  // Vhost and object names are percent-encoded in URLs; '/' becomes %2F.
  const enc = encodeURIComponent;
  function exUrlName(name) { return name === '' ? 'amq.default' : name; }
  function queueHash(q) { return `#/queues/${enc(q.vhost)}/${enc(q.name)}`; }
  function exchangeHash(x) { return `#/exchanges/${enc(x.vhost)}/${enc(exUrlName(x.name))}`; }

  // ---------- HTTP ----------

  class ApiError extends Error {
    constructor(status, reason, body) { super(reason); this.status = status; this.body = body; }
  }

  // A 401 means bad credentials only from the login check (GET /api/whoami) or when its body is
  // RabbitMQ's login failure, spelled with a z. Every other 401 ("not_authorised": Not
  // administrator user, Not monitor user, a vhost the user may not access) refuses that one
  // request: the session stays and the page says the user is not permitted.
  function isLoginFailure(path, data) {
    if (path.split('?')[0] === '/whoami') return true;
    return !!data && typeof data === 'object' && data.error === 'not_authorized' && data.reason === 'Login failed';
  }

  function deniedMessage(reason) {
    return `Not permitted: your user's tags or permissions do not allow this (${reason || 'refused'}).`;
  }

  function basic(user, pass) {
    const bytes = new TextEncoder().encode(`${user}:${pass}`);
    let s = '';
    for (const b of bytes) s += String.fromCharCode(b);
    return btoa(s);
  }

  // method, path under /api, optional JSON body. Resolves to parsed JSON (or null for no body).
  // opts.auth overrides the stored credentials; opts.accept lists extra statuses to resolve with.
  async function api(method, path, body, opts) {
    opts = opts || {};
    // No Accept header: RabbitMQ answers 406 to DELETE .../contents with Accept: application/json.
    const headers = {};
    const auth = opts.auth || state.auth;
    if (auth) headers.Authorization = 'Basic ' + auth;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    Object.assign(headers, opts.headers || {});
    let res;
    try {
      // credentials 'omit': no browser login prompt on 401; our Authorization header still goes.
      res = await fetch('api' + path, {
        method, headers, credentials: 'omit', cache: 'no-store',
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (e) {
      throw new ApiError(0, 'The server is unreachable (' + e.message + ')');
    }
    const text = await res.text();
    let data = null;
    if (text) { try { data = JSON.parse(text); } catch (e) { data = text; } }
    if (res.ok || (opts.accept || []).includes(res.status)) return data;
    const reason = data && typeof data === 'object' ? (data.reason || data.error) : (text || res.statusText);
    if (res.status === 401 && !isLoginFailure(path, data)) {
      const err = new ApiError(401, deniedMessage(reason), data);
      err.denied = true;
      throw err;
    }
    const err = new ApiError(res.status, `${res.status} ${reason || res.statusText}`, data);
    if (res.status === 401 && !opts.auth) {
      err.loggedOut = true;
      logout('Your session is no longer valid: log in again.');
    }
    throw err;
  }

  const get = (p, o) => api('GET', p, undefined, o);

  // A refusal shown where the data would have been.
  function deniedBlock(e) {
    return h('p', { class: 'error denied', 'data-test': 'not-permitted' }, e.message);
  }

  // ---------- tags ----------

  // whoami's tags: a list (RabbitMQ 3.10, Warren) or a comma-separated string (older RabbitMQ).
  function parseTags(t) {
    if (Array.isArray(t)) return t.map(String);
    if (typeof t === 'string') return t.split(',').map(s => s.trim()).filter(Boolean);
    return null;
  }

  // What the tags allow, as RabbitMQ decides it: administrator includes monitoring and
  // policymaker. Until whoami has answered (tags null) everything is shown.
  function hasTag(...wanted) { return !state.tags || wanted.some(t => state.tags.includes(t)); }
  const can = {
    administer: () => hasTag('administrator'),
    monitor: () => hasTag('administrator', 'monitoring'),
    makePolicies: () => hasTag('administrator', 'policymaker'),
  };
  // Pages that need a tag. The others list what the user's vhost permissions let them see; their
  // administrative forms and buttons are shown only to the tags that may use them.
  const PAGE_NEEDS = { users: { allowed: can.administer, tag: 'administrator' } };

  function applyNav() {
    for (const link of document.querySelectorAll('#nav a')) {
      const route = link.dataset.route;
      link.hidden = Object.hasOwn(PAGE_NEEDS, route) && !PAGE_NEEDS[route].allowed();
    }
  }

  // ---------- notices ----------

  let noticeTimer = null;
  function notify(message, kind) {
    const el = $('#notice');
    el.hidden = false;
    el.className = kind || 'ok';
    el.setAttribute('data-test', 'notice');
    el.textContent = message;
    clearTimeout(noticeTimer);
    noticeTimer = setTimeout(() => { el.hidden = true; }, kind === 'error' ? 8000 : 4000);
  }

  // Runs an action from a form or button: disables the button while it runs, reports errors.
  async function act(button, fn, success) {
    if (button) button.disabled = true;
    try {
      const r = await fn();
      if (success) notify(typeof success === 'function' ? success(r) : success, 'ok');
      return r;
    } catch (e) {
      if (!e.loggedOut) notify(e.message, 'error');
      return undefined;
    } finally {
      if (button) button.disabled = false;
    }
  }

  // ---------- session ----------

  function setSession(auth, user, tagList) {
    state.auth = auth; state.user = user; state.tags = auth ? parseTags(tagList) : null;
    if (auth) {
      sessionStorage.setItem(AUTH_KEY, auth); sessionStorage.setItem(USER_KEY, user);
      sessionStorage.setItem(TAGS_KEY, JSON.stringify(state.tags));
    } else {
      for (const k of [AUTH_KEY, USER_KEY, TAGS_KEY]) sessionStorage.removeItem(k);
    }
  }

  // A session from before tags were kept: ask whoami (the login check) once.
  async function loadTags() {
    try {
      const me = await get('/whoami');
      if (state.auth) { setSession(state.auth, me.name || state.user, me.tags); applyNav(); route(); }
    } catch (e) { /* a 401 has logged out; anything else leaves everything shown */ }
  }

  function logout(message) {
    if (!state.auth) return;  // several requests of one refresh can fail the login: log out once
    setSession(null, null);
    state.vhosts = null; state.rates = []; state.lengths = []; state.seeded = false;
    state.loginMessage = message || null;
    state.tagsAsked = false;
    if (location.hash !== '#/login') location.hash = '#/login';
    else route();
  }

  // ---------- widgets ----------

  // columns: [{title, get: row => node|string, cls}]; rows: array; rowAttrs: row => attrs
  function table(testName, columns, rows, rowAttrs, empty) {
    const thead = h('thead', null, h('tr', null, columns.map(c => h('th', { class: c.cls }, c.title))));
    const tbody = h('tbody');
    if (!rows.length) {
      tbody.appendChild(h('tr', null, h('td', { colspan: columns.length, class: 'empty' }, empty || 'Nothing here yet.')));
    }
    for (const r of rows) {
      tbody.appendChild(h('tr', rowAttrs ? rowAttrs(r) : null,
        columns.map(c => h('td', { class: c.cls }, c.get(r)))));
    }
    return h('table', { class: 'grid', 'data-test': testName }, thead, tbody);
  }

  function section(title, ...body) {
    return h('section', { class: 'card' }, title ? h('h2', null, title) : null, body);
  }

  function field(label, control, hint) {
    return h('label', { class: 'field' }, h('span', null, label), control, hint ? h('small', null, hint) : null);
  }

  function select(id, options, value) {
    return h('select', { id, name: id },
      options.map(o => {
        const [v, t] = Array.isArray(o) ? o : [o, o];
        return h('option', { value: v, selected: v === value }, t);
      }));
  }

  function pill(text, kind, test) { return h('span', { class: 'pill ' + (kind || ''), 'data-test': test }, text); }

  function features(o) {
    const out = [];
    const feat = (text, title) => h('span', { class: 'pill feat', title }, text);
    if (o.durable) out.push(feat('D', 'durable'));
    if (o.auto_delete) out.push(feat('AD', 'auto-delete'));
    if (o.exclusive) out.push(feat('Excl', 'exclusive'));
    if (o.internal) out.push(feat('I', 'internal'));
    for (const [k, v] of Object.entries(o.arguments || {})) out.push(pill(`${k}: ${json(v)}`, 'arg', null));
    if (o.policy) out.push(pill('policy: ' + o.policy, 'arg', null));
    return out;
  }

  function kv(pairs) {
    return h('dl', { class: 'kv' }, pairs.filter(Boolean).map(([k, v, test]) =>
      [h('dt', null, k), h('dd', { 'data-test': test }, v)]));
  }

  function filterBox(id, onInput) {
    return h('input', { id, type: 'search', placeholder: 'Filter by name…', class: 'filter', oninput: onInput });
  }

  async function vhostNames() {
    if (!state.vhosts) state.vhosts = (await get('/vhosts')).map(v => v.name);
    return state.vhosts;
  }

  async function vhostSelect(id) {
    const s = select(id, ['/'], '/');
    try {
      const names = await vhostNames();
      replace(s, names.map(n => h('option', { value: n, selected: n === '/' }, n)));
    } catch (e) { /* keep '/' */ }
    return s;
  }

  function parseJSONField(el, what) {
    const text = el.value.trim();
    if (!text) return {};
    try {
      const v = JSON.parse(text);
      if (v && typeof v === 'object' && !Array.isArray(v)) return v;
    } catch (e) { /* fall through */ }
    throw new ApiError(0, `${what} must be a JSON object, e.g. {"x-message-ttl": 60000}`);
  }

  // For detail pages: a 404 means the object is gone, shown in the page rather than as an error.
  function notFound(e) { if (e instanceof ApiError && e.status === 404) return null; throw e; }

  function confirmed(message) { return window.confirm(message); }

  // ---------- live chart ----------

  const SERIES = {
    publish: { label: 'Publish', color: '#2f7ed8' },
    deliver_get: { label: 'Deliver / get', color: '#1aaf5d' },
    ack: { label: 'Ack', color: '#f28f1c' },
    ready: { label: 'Ready', color: '#d4a017' },
    unacked: { label: 'Unacked', color: '#7b61c9' },
  };

  function niceMax(v) {
    if (v <= 0) return 1;
    const p = Math.pow(10, Math.floor(Math.log10(v)));
    for (const m of [1, 2, 2.5, 5, 10]) if (v <= m * p) return m * p;
    return 10 * p;
  }

  function drawChart(canvas, points, keys, unit) {
    const dpr = window.devicePixelRatio || 1;
    const w = canvas.clientWidth || 600, hgt = canvas.clientHeight || 180;
    if (canvas.width !== Math.round(w * dpr)) canvas.width = Math.round(w * dpr);
    if (canvas.height !== Math.round(hgt * dpr)) canvas.height = Math.round(hgt * dpr);
    const ctx = canvas.getContext('2d');
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, hgt);
    const left = 56, right = 10, top = 10, bottom = 22;
    const pw = w - left - right, ph = hgt - top - bottom;
    const now = Date.now(), span = 5 * 60 * 1000, t0 = now - span;
    const visible = points.filter(p => p.t >= t0 - REFRESH_MS);
    let max = 0;
    for (const p of visible) for (const k of keys) max = Math.max(max, p[k] || 0);
    max = niceMax(max);
    ctx.font = '11px system-ui, sans-serif';
    ctx.textBaseline = 'middle';
    ctx.lineWidth = 1;
    for (let i = 0; i <= 4; i++) {
      const y = top + ph - (ph * i) / 4;
      ctx.strokeStyle = i === 0 ? '#b8c0cc' : '#e6e9ee';
      ctx.beginPath(); ctx.moveTo(left, Math.round(y) + 0.5); ctx.lineTo(left + pw, Math.round(y) + 0.5); ctx.stroke();
      ctx.fillStyle = '#6b7380';
      ctx.textAlign = 'right';
      const v = (max * i) / 4;
      ctx.fillText((v >= 1000 ? nf.format(Math.round(v)) : +v.toFixed(2)) + unit, left - 6, y);
    }
    ctx.textAlign = 'center';
    ctx.textBaseline = 'alphabetic';
    for (let m = 0; m <= 5; m++) {
      const x = left + (pw * (span - m * 60000)) / span;
      ctx.fillStyle = '#6b7380';
      ctx.fillText(m === 0 ? 'now' : `-${m}m`, Math.min(Math.max(x, left + 10), left + pw - 12), hgt - 6);
    }
    const xOf = t => left + (pw * (t - t0)) / span;
    const yOf = v => top + ph - (ph * Math.min(v, max)) / max;
    ctx.save();
    ctx.beginPath(); ctx.rect(left, top - 2, pw + 2, ph + 4); ctx.clip();
    for (const k of keys) {
      const pts = visible.filter(p => typeof p[k] === 'number');
      if (!pts.length) continue;
      ctx.strokeStyle = SERIES[k].color;
      ctx.fillStyle = SERIES[k].color;
      ctx.lineWidth = 2;
      ctx.lineJoin = 'round';
      ctx.beginPath();
      pts.forEach((p, i) => (i ? ctx.lineTo(xOf(p.t), yOf(p[k])) : ctx.moveTo(xOf(p.t), yOf(p[k]))));
      ctx.stroke();
      const last = pts[pts.length - 1];
      ctx.beginPath(); ctx.arc(xOf(last.t), yOf(last[k]), 3, 0, 2 * Math.PI); ctx.fill();
    }
    ctx.restore();
  }

  function legend(keys, values, format, testPrefix) {
    return h('div', { class: 'legend' }, keys.map(k =>
      h('span', { class: 'legend-item' },
        h('i', { style: { background: SERIES[k].color } }),
        SERIES[k].label + ' ',
        h('b', { 'data-test': testPrefix + k.replace('_', '-'), id: testPrefix + k.replace('_', '-') }, format(values[k])))));
  }

  function pushSample(list, sample) {
    list.push(sample);
    const cutoff = Date.now() - HISTORY_MS;
    while (list.length && list[0].t < cutoff) list.shift();
  }

  // RabbitMQ answers ?msg_rates_age=..&lengths_age=.. with counter samples (newest first):
  // turn them into rate points so the chart has a history at once. Absent samples are fine.
  function seedHistory(ov) {
    state.seeded = true;
    const ms = ov.message_stats || {}, qt = ov.queue_totals || {};
    const series = {};
    for (const k of ['publish', 'deliver_get', 'ack']) {
      const s = ms[k + '_details'] && ms[k + '_details'].samples;
      if (!Array.isArray(s) || s.length < 2) continue;
      for (let i = 0; i + 1 < s.length; i++) {
        const dt = (s[i].timestamp - s[i + 1].timestamp) / 1000;
        if (dt <= 0) continue;
        const t = s[i].timestamp;
        (series[t] = series[t] || { t })[k] = Math.max(0, (s[i].sample - s[i + 1].sample) / dt);
      }
    }
    const seededRates = Object.values(series).sort((a, b) => a.t - b.t);
    if (seededRates.length && !state.rates.length) state.rates = seededRates.slice(0, -1);
    const lens = {};
    for (const [k, key] of [['ready', 'messages_ready'], ['unacked', 'messages_unacknowledged']]) {
      const s = qt[key + '_details'] && qt[key + '_details'].samples;
      if (!Array.isArray(s)) continue;
      for (const p of s) (lens[p.timestamp] = lens[p.timestamp] || { t: p.timestamp })[k] = p.sample;
    }
    const seededLens = Object.values(lens).sort((a, b) => a.t - b.t);
    if (seededLens.length && !state.lengths.length) state.lengths = seededLens.slice(0, -1);
  }

  // ---------- pages ----------

  function pageHeader(title, ...extra) {
    return h('div', { class: 'page-head' }, h('h1', null, title), extra);
  }

  function loginPage() {
    $('#topbar').hidden = true;
    $('#footer').hidden = true;
    const err = h('p', { id: 'login-error', class: 'error', 'data-test': 'login-error', hidden: !state.loginMessage },
      state.loginMessage || '');
    state.loginMessage = null;
    const user = h('input', { id: 'login-username', name: 'username', autocomplete: 'username', required: true });
    const pass = h('input', { id: 'login-password', name: 'password', type: 'password', autocomplete: 'current-password' });
    const button = h('button', { id: 'login-submit', type: 'submit', class: 'primary' }, 'Log in');
    const form = h('form', {
      id: 'login-form', class: 'login card', onsubmit: async ev => {
        ev.preventDefault();
        button.disabled = true;
        err.hidden = true;
        const auth = basic(user.value, pass.value);
        try {
          const me = await get('/whoami', { auth });
          setSession(auth, me.name || user.value, me.tags);
          location.hash = state.after && state.after !== '#/login' ? state.after : '#/';
        } catch (e) {
          const refused = e.body && e.body.error === 'not_authorised';
          err.textContent = e.status !== 401 ? e.message
            : refused ? `Login refused: ${e.body.reason || 'not a management user'}.` : 'Login failed: wrong username or password.';
          err.hidden = false;
          pass.select();
        } finally {
          button.disabled = false;
        }
      },
    },
    h('div', { class: 'login-brand' }, h('span', { class: 'logo big', 'aria-hidden': 'true' }), h('div', null, h('h1', null, 'Warren'), h('p', { class: 'muted' }, 'Management console'))),
    field('Username', user), field('Password', pass), err, button);
    setTimeout(() => (user.value ? pass : user).focus(), 0);
    return { el: h('div', { class: 'login-wrap', 'data-test': 'page-login' }, form) };
  }

  function overviewPage() {
    const totals = h('div', { class: 'tiles', id: 'object-totals' });
    const nodes = h('div', { id: 'nodes' });
    const alarms = h('div', { id: 'alarms', 'data-test': 'alarms' }, pill('checking…', 'muted'));
    const ratesCanvas = h('canvas', { id: 'chart-rates', 'data-test': 'chart-rates', class: 'chart', width: 600, height: 200 });
    const lengthsCanvas = h('canvas', { id: 'chart-queued', 'data-test': 'chart-queued', class: 'chart', width: 600, height: 200 });
    const ratesLegend = h('div'), lengthsLegend = h('div');
    const info = h('div', { class: 'muted', id: 'overview-info' });
    const el = h('div', { 'data-test': 'page-overview' },
      pageHeader('Overview', info),
      totals,
      h('div', { class: 'cols' },
        section('Queued messages', lengthsLegend, lengthsCanvas),
        section('Message rates', ratesLegend, ratesCanvas)),
      section('Nodes', nodes),
      section('Alarms', alarms));

    function redraw() {
      drawChart(ratesCanvas, state.rates, ['publish', 'deliver_get', 'ack'], '/s');
      drawChart(lengthsCanvas, state.lengths, ['ready', 'unacked'], '');
    }

    async function refresh() {
      const query = state.seeded ? '' : '?msg_rates_age=300&msg_rates_incr=5&lengths_age=300&lengths_incr=5';
      const [ov, nodeList, health] = await Promise.all([
        get('/overview' + query),
        can.monitor() ? get('/nodes').catch(e => e) : null,
        get('/health/checks/alarms', { accept: [503] }).catch(e => e),
      ]);
      if (!state.seeded) seedHistory(ov);
      const ms = ov.message_stats || {}, qt = ov.queue_totals || {}, ot = ov.object_totals || {};
      const now = Date.now();
      const r = { t: now, publish: detailRate(ms, 'publish') || 0, deliver_get: detailRate(ms, 'deliver_get') || 0, ack: detailRate(ms, 'ack') || 0 };
      const l = { t: now, ready: qt.messages_ready || 0, unacked: qt.messages_unacknowledged || 0 };
      pushSample(state.rates, r);
      pushSample(state.lengths, l);

      const product = ov.product_name || 'Warren';
      $('#brand-name').textContent = product;
      document.title = `${product} management`;
      replace(info, `${product} ${ov.product_version || ov.rabbitmq_version || ''}`,
        ov.cluster_name ? ` · cluster ${ov.cluster_name}` : '', ov.node ? ` · node ${ov.node}` : '');
      $('#footer-info').textContent = `${product} ${ov.product_version || ''}` + (ov.erlang_version ? ` · Erlang ${ov.erlang_version}` : '');

      replace(totals, [['Connections', 'connections', '#/connections'], ['Channels', 'channels', '#/channels'],
        ['Exchanges', 'exchanges', '#/exchanges'], ['Queues', 'queues', '#/queues'], ['Consumers', 'consumers', '#/queues'],
        ['Messages', null, '#/queues']].map(([label, key, href]) =>
        h('a', { class: 'tile', href },
          h('b', { id: 'total-' + (key || 'messages'), 'data-test': 'total-' + (key || 'messages') },
            num(key ? ot[key] || 0 : qt.messages || 0)),
          h('span', null, label))));

      replace(lengthsLegend, append(legend(['ready', 'unacked'], l, num, 'queued-'),
        [h('span', { class: 'legend-item' }, 'Total ', h('b', { id: 'queued-total', 'data-test': 'queued-total' }, num(qt.messages || 0)))]));
      replace(ratesLegend, legend(['publish', 'deliver_get', 'ack'], r, rate, 'rate-'));
      redraw();

      if (nodeList === null) {
        replace(nodes, h('p', { class: 'muted', 'data-test': 'nodes-need-monitoring' },
          'Node statistics need the monitoring or administrator tag.'));
      } else if (nodeList instanceof Error) replace(nodes, nodeList.denied ? deniedBlock(nodeList) : h('p', { class: 'error' }, nodeList.message));
      else replace(nodes, table('nodes-table', [
        { title: 'Name', get: n => n.name },
        { title: 'Status', get: n => pill(n.running === false ? 'stopped' : 'running', n.running === false ? 'bad' : 'good', 'node-status') },
        { title: 'Memory', get: n => meter(n.mem_used, n.mem_limit, n.mem_alarm, bytes) },
        { title: 'Disk free', get: n => (n.disk_free === undefined ? h('span', { class: n.disk_free_alarm ? 'bad-text' : 'muted' }, n.disk_free_alarm ? 'alarm' : '–')
          : h('span', { class: n.disk_free_alarm ? 'bad-text' : '' }, bytes(n.disk_free),
            n.disk_free_limit !== undefined ? h('small', null, ` (limit ${bytes(n.disk_free_limit)})`) : null)) },
        { title: 'File descriptors', get: n => meter(n.fd_used, n.fd_total, false, num) },
        { title: 'Sockets', get: n => meter(n.sockets_used, n.sockets_total, false, num) },
        { title: 'Uptime', cls: 'num', get: n => duration(n.uptime) },
      ], nodeList, n => ({ 'data-test': 'node-row', 'data-name': n.name })));

      if (health instanceof Error) replace(alarms, health.denied ? deniedBlock(health) : h('p', { class: 'error' }, health.message));
      else if (health && health.status === 'ok') replace(alarms, pill('No alarms in effect', 'good', 'alarms-ok'));
      else {
        const list = (health && health.alarms) || [];
        replace(alarms, pill('Alarms in effect', 'bad', 'alarms-failed'), ' ',
          list.length ? list.map(a => pill(`${a.resource} alarm on ${a.node}`, 'bad', 'alarm')) : (health && health.reason) || '');
      }
    }
    return { el, refresh, every: REFRESH_MS, resize: redraw };
  }

  function meter(used, total, alarm, format) {
    if (used === undefined || used === null) return h('span', { class: 'muted' }, '–');
    if (!total) return h('span', { class: alarm ? 'bad-text' : '' }, format(used));
    const pct = total ? Math.min(100, (100 * used) / total) : 0;
    return h('div', { class: 'meter' + (alarm ? ' alarm' : '') },
      h('div', { class: 'meter-bar' }, h('i', { style: { width: pct.toFixed(1) + '%' } })),
      h('small', null, `${format(used)} / ${format(total)}`));
  }

  // A list page: a filter, a table refreshed every 5 s, and optional forms below.
  function listPage(opts) {
    let rows = [];
    let filter = '';
    let denied = null;  // the list's 401 refusal, shown in place of the table
    const holder = h('div', { class: 'table-wrap' });
    const count = h('span', { class: 'muted count' });
    function render() {
      if (denied) { count.textContent = ''; replace(holder, deniedBlock(denied)); return; }
      const shown = filter ? rows.filter(r => String(r.name || r.user || '').toLowerCase().includes(filter)) : rows;
      count.textContent = filter ? `${shown.length} of ${rows.length}` : `${rows.length}`;
      replace(holder, table(opts.test, opts.columns, shown, opts.rowAttrs, opts.empty));
    }
    const el = h('div', { 'data-test': 'page-' + opts.name },
      pageHeader(opts.title, count, filterBox(opts.name + '-filter', ev => { filter = ev.target.value.toLowerCase(); render(); })),
      section(null, holder),
      opts.forms || null);
    async function refresh() {
      try {
        rows = await get(opts.path);
        denied = null;
      } catch (e) {
        if (!e.denied) throw e;
        rows = [];
        denied = e;
      }
      if (opts.sort) rows.sort(opts.sort);
      render();
    }
    return { el, refresh, every: REFRESH_MS };
  }

  function byVhostName(a, b) { return a.vhost === b.vhost ? (a.name < b.name ? -1 : a.name > b.name) : (a.vhost < b.vhost ? -1 : 1); }

  function queuesPage() {
    const name = h('input', { id: 'queue-name', name: 'queue-name', required: true, placeholder: 'orders' });
    const args = h('textarea', { id: 'queue-arguments', rows: 2, placeholder: '{"x-message-ttl": 60000, "x-max-length": 1000}' });
    const durable = select('queue-durable', [['true', 'Durable'], ['false', 'Transient']], 'true');
    const autoDelete = select('queue-auto-delete', [['false', 'No'], ['true', 'Yes']], 'false');
    const vhostHolder = h('span');
    const add = h('button', { id: 'queue-add', type: 'submit', class: 'primary' }, 'Add queue');
    let page;
    const form = h('form', {
      id: 'queue-form', class: 'form-grid', onsubmit: async ev => {
        ev.preventDefault();
        const vhost = $('#queue-vhost').value;
        const ok = await act(add, async () => {
          const body = { durable: durable.value === 'true', auto_delete: autoDelete.value === 'true', arguments: parseJSONField(args, 'Arguments') };
          await api('PUT', `/queues/${enc(vhost)}/${enc(name.value)}`, body);
          return name.value;
        }, n => `Queue ${n} declared.`);
        if (ok !== undefined) { name.value = ''; await page.refresh(); }
      },
    }, field('Virtual host', vhostHolder), field('Name', name), field('Durability', durable),
    field('Auto delete', autoDelete), field('Arguments (JSON)', args), h('div', { class: 'actions' }, add));
    vhostSelect('queue-vhost').then(s => vhostHolder.appendChild(s));

    page = listPage({
      name: 'queues', title: 'Queues', path: '/queues', test: 'queues-table', sort: byVhostName,
      empty: 'No queues. Add one below.',
      rowAttrs: q => ({ 'data-test': 'queue-row', 'data-name': q.name, 'data-vhost': q.vhost }),
      columns: [
        { title: 'Virtual host', get: q => q.vhost },
        { title: 'Name', get: q => h('a', { href: queueHash(q), 'data-test': 'queue-link', 'data-name': q.name }, q.name) },
        { title: 'Type', get: q => q.type || 'classic' },
        { title: 'Features', get: q => features(q) },
        { title: 'State', get: q => pill(q.state || 'running', q.state && q.state !== 'running' ? 'warn' : 'good') },
        { title: 'Ready', cls: 'num', get: q => num(q.messages_ready) },
        { title: 'Unacked', cls: 'num', get: q => num(q.messages_unacknowledged) },
        { title: 'Total', cls: 'num', get: q => h('span', { 'data-test': 'queue-messages' }, num(q.messages)) },
        { title: 'Incoming', cls: 'num', get: q => rate(msgRate(q, 'publish')) },
        { title: 'Deliver / get', cls: 'num', get: q => rate(msgRate(q, 'deliver_get')) },
        { title: 'Ack', cls: 'num', get: q => rate(msgRate(q, 'ack')) },
        { title: 'Consumers', cls: 'num', get: q => num(q.consumers) },
      ],
      forms: section('Add a queue', form),
    });
    return page;
  }

  function queuePage(vhost, qname) {
    const base = `/queues/${enc(vhost)}/${enc(qname)}`;
    const infoHolder = h('div', { id: 'queue-info' });
    const consumersHolder = h('div');
    const bindingsHolder = h('div');
    const results = h('div', { id: 'get-results', 'data-test': 'get-results' });

    const count = h('input', { id: 'get-count', type: 'number', min: 1, value: '1' });
    const ackmode = select('get-ackmode', [['ack_requeue_true', 'Nack message, requeue true'], ['reject_requeue_false', 'Reject, requeue false'],
      ['ack_requeue_false', 'Ack message, requeue false'], ['reject_requeue_true', 'Reject, requeue true']], 'ack_requeue_true');
    const encoding = select('get-encoding', [['auto', 'Automatic string/base64'], ['base64', 'Base64']], 'auto');
    const truncate = h('input', { id: 'get-truncate', type: 'number', min: 1, value: '50000' });
    const getBtn = h('button', { id: 'get-submit', type: 'submit', class: 'primary' }, 'Get messages');
    const getForm = h('form', {
      id: 'get-form', class: 'form-grid', onsubmit: async ev => {
        ev.preventDefault();
        const msgs = await act(getBtn, () => api('POST', base + '/get', {
          count: Math.max(1, parseInt(count.value, 10) || 1), ackmode: ackmode.value, encoding: encoding.value,
          truncate: Math.max(1, parseInt(truncate.value, 10) || 50000),
        }));
        if (msgs === undefined) return;
        replace(results, msgs.length ? msgs.map((m, i) => messageCard(m, i + 1)) : h('p', { class: 'muted', 'data-test': 'queue-empty' }, 'Queue is empty.'));
        refresh();
      },
    }, field('Messages', count), field('Ack mode', ackmode), field('Encoding', encoding), field('Truncate (bytes)', truncate),
    h('div', { class: 'actions' }, getBtn));

    const payload = h('textarea', { id: 'queue-publish-payload', rows: 3, placeholder: 'Message body' });
    const mode = select('queue-publish-delivery-mode', [['1', '1 – non-persistent'], ['2', '2 – persistent']], '1');
    const pubBtn = h('button', { id: 'queue-publish-submit', type: 'submit' }, 'Publish message');
    const pubForm = h('form', {
      id: 'queue-publish-form', class: 'form-grid', onsubmit: async ev => {
        ev.preventDefault();
        const r = await act(pubBtn, () => api('POST', `/exchanges/${enc(vhost)}/amq.default/publish`, {
          properties: { delivery_mode: parseInt(mode.value, 10) }, routing_key: qname, payload: payload.value, payload_encoding: 'string',
        }), r => (r && r.routed ? 'Message published.' : 'Message published, but not routed.'));
        if (r !== undefined) refresh();
      },
    }, field('Delivery mode', mode), field('Payload', payload), h('div', { class: 'actions' }, pubBtn));

    const bindEx = h('input', { id: 'bind-exchange', required: true, placeholder: 'amq.direct' });
    const bindKey = h('input', { id: 'bind-routing-key', placeholder: qname });
    const bindBtn = h('button', { id: 'bind-submit', type: 'submit' }, 'Bind');
    const bindForm = h('form', {
      id: 'bind-form', class: 'form-grid', onsubmit: async ev => {
        ev.preventDefault();
        const r = await act(bindBtn, () => api('POST', `/bindings/${enc(vhost)}/e/${enc(bindEx.value)}/q/${enc(qname)}`,
          { routing_key: bindKey.value, arguments: {} }), 'Binding added.');
        if (r !== undefined) refresh();
      },
    }, field('From exchange', bindEx), field('Routing key', bindKey), h('div', { class: 'actions' }, bindBtn));

    const purge = h('button', {
      id: 'queue-purge', type: 'button', class: 'warn', onclick: async () => {
        if (!confirmed(`Purge all ready messages from ${qname}?`)) return;
        const r = await act(purge, () => api('DELETE', base + '/contents'), 'Queue purged.');
        if (r !== undefined) refresh();
      },
    }, 'Purge messages');
    const del = h('button', {
      id: 'queue-delete', type: 'button', class: 'danger', onclick: async () => {
        if (!confirmed(`Delete queue ${qname}?`)) return;
        const r = await act(del, () => api('DELETE', base), `Queue ${qname} deleted.`);
        if (r !== undefined) location.hash = '#/queues';
      },
    }, 'Delete queue');

    const el = h('div', { 'data-test': 'page-queue', 'data-name': qname },
      pageHeader(h('span', null, h('small', { class: 'muted' }, 'Queue '), h('span', { id: 'queue-title' }, qname)),
        pill('vhost ' + vhost, 'muted'), h('a', { href: '#/queues', class: 'back' }, '← all queues')),
      h('div', { class: 'cols' }, section('Details', infoHolder), section('Get messages', getForm, results)),
      h('div', { class: 'cols' }, section('Publish message', h('p', { class: 'muted' }, 'Published to the default exchange with routing key ', h('code', null, qname), '.'), pubForm),
        section('Bindings', bindingsHolder, bindForm)),
      section('Consumers', consumersHolder),
      section('Delete or purge', h('div', { class: 'actions left' }, purge, del)));

    async function refresh() {
      const [q, bindings] = await Promise.all([get(base).catch(notFound), get(base + '/bindings').catch(() => [])]);
      if (!q) { replace(infoHolder, h('p', { class: 'error', 'data-test': 'not-found' }, `Queue ${qname} does not exist in vhost ${vhost}.`)); return; }
      replace(infoHolder, kv([
        ['Type', q.type || 'classic'],
        ['State', pill(q.state || 'running', q.state && q.state !== 'running' ? 'warn' : 'good')],
        ['Features', features(q).length ? features(q) : '–'],
        ['Ready', num(q.messages_ready), 'queue-ready'],
        ['Unacked', num(q.messages_unacknowledged), 'queue-unacked'],
        ['Total', num(q.messages), 'queue-total'],
        q.message_bytes !== undefined && ['Message bytes', bytes(q.message_bytes)],
        ['Consumers', num(q.consumers)],
        q.consumer_utilisation !== undefined && q.consumer_utilisation !== null && ['Consumer utilisation', `${Math.round(100 * q.consumer_utilisation)}%`],
        ['Incoming', rate(msgRate(q, 'publish'))],
        ['Deliver / get', rate(msgRate(q, 'deliver_get'))],
        ['Ack', rate(msgRate(q, 'ack'))],
        q.memory !== undefined && ['Memory', bytes(q.memory)],
        q.node && ['Node', q.node],
      ]));
      replace(consumersHolder, table('consumers-table', [
        { title: 'Channel', get: c => (c.channel_details && c.channel_details.name) || '–' },
        { title: 'Consumer tag', get: c => c.consumer_tag },
        { title: 'Ack required', get: c => (c.ack_required ? 'yes' : 'no') },
        { title: 'Exclusive', get: c => (c.exclusive ? 'yes' : 'no') },
        { title: 'Prefetch', cls: 'num', get: c => num(c.prefetch_count) },
        { title: 'Active', get: c => (c.active === false ? 'no' : 'yes') },
      ], q.consumer_details || [], null, 'No consumers.'));
      replace(bindingsHolder, table('bindings-table', [
        { title: 'From', get: b => exName(b.source) },
        { title: 'Routing key', get: b => h('code', null, b.routing_key) },
        { title: 'Arguments', get: b => (Object.keys(b.arguments || {}).length ? json(b.arguments) : '') },
        { title: '', get: b => (b.source === '' ? h('small', { class: 'muted' }, 'default binding') : h('button', {
          type: 'button', class: 'small', 'data-test': 'unbind', onclick: async ev => {
            const r = await act(ev.target, () => api('DELETE', `/bindings/${enc(vhost)}/e/${enc(b.source)}/q/${enc(qname)}/${enc(b.properties_key)}`), 'Binding removed.');
            if (r !== undefined) refresh();
          },
        }, 'Unbind')) },
      ], bindings, null, 'No bindings.'));
    }
    return { el, refresh, every: REFRESH_MS };
  }

  function messageCard(m, i) {
    const props = m.properties && !Array.isArray(m.properties) ? m.properties : {};
    return h('div', { class: 'message', 'data-test': 'message' },
      h('div', { class: 'message-head' }, h('b', null, `Message ${i}`),
        h('span', { class: 'muted' }, ` · exchange ${exName(m.exchange)} · routing key `, h('code', null, m.routing_key),
          ` · ${num(m.payload_bytes)} bytes · ${m.redelivered ? 'redelivered' : 'first delivery'}`,
          m.message_count !== undefined ? ` · ${num(m.message_count)} left in queue` : '')),
      Object.keys(props).length ? h('div', { class: 'props' }, Object.entries(props).map(([k, v]) =>
        h('span', { class: 'pill arg' }, `${k}: ${typeof v === 'object' ? json(v) : v}`))) : null,
      h('pre', { class: 'payload', 'data-test': 'message-payload', 'data-encoding': m.payload_encoding }, m.payload),
      m.payload_encoding === 'base64' ? h('small', { class: 'muted' }, 'base64-encoded') : null);
  }

  function exchangesPage() {
    const name = h('input', { id: 'exchange-name', required: true, placeholder: 'events' });
    const type = select('exchange-type', ['direct', 'fanout', 'topic', 'headers', 'x-delayed-message'], 'direct');
    const durable = select('exchange-durable', [['true', 'Durable'], ['false', 'Transient']], 'true');
    const args = h('textarea', { id: 'exchange-arguments', rows: 2, placeholder: '{"alternate-exchange": "unrouted"}' });
    const vhostHolder = h('span');
    const add = h('button', { id: 'exchange-add', type: 'submit', class: 'primary' }, 'Add exchange');
    let page;
    const form = h('form', {
      id: 'exchange-form', class: 'form-grid', onsubmit: async ev => {
        ev.preventDefault();
        const vhost = $('#exchange-vhost').value;
        const r = await act(add, () => api('PUT', `/exchanges/${enc(vhost)}/${enc(name.value)}`, {
          type: type.value, durable: durable.value === 'true', auto_delete: false, internal: false, arguments: parseJSONField(args, 'Arguments'),
        }), `Exchange ${name.value} declared.`);
        if (r !== undefined) { name.value = ''; await page.refresh(); }
      },
    }, field('Virtual host', vhostHolder), field('Name', name), field('Type', type), field('Durability', durable),
    field('Arguments (JSON)', args), h('div', { class: 'actions' }, add));
    vhostSelect('exchange-vhost').then(s => vhostHolder.appendChild(s));
    page = listPage({
      name: 'exchanges', title: 'Exchanges', path: '/exchanges', test: 'exchanges-table', sort: byVhostName,
      rowAttrs: x => ({ 'data-test': 'exchange-row', 'data-name': x.name, 'data-vhost': x.vhost }),
      columns: [
        { title: 'Virtual host', get: x => x.vhost },
        { title: 'Name', get: x => h('a', { href: exchangeHash(x), 'data-test': 'exchange-link', 'data-name': x.name }, exName(x.name)) },
        { title: 'Type', get: x => x.type },
        { title: 'Features', get: x => features(x) },
        { title: 'Rate in', cls: 'num', get: x => rate(msgRate(x, 'publish_in')) },
        { title: 'Rate out', cls: 'num', get: x => rate(msgRate(x, 'publish_out')) },
      ],
      forms: section('Add an exchange', form),
    });
    return page;
  }

  function exchangePage(vhost, xname) {
    const base = `/exchanges/${enc(vhost)}/${enc(xname)}`;
    const display = xname === 'amq.default' ? '(AMQP default)' : xname;
    const infoHolder = h('div');
    const bindingsHolder = h('div');
    const key = h('input', { id: 'publish-routing-key', placeholder: xname === 'amq.default' ? 'queue name' : 'routing key' });
    const mode = select('publish-delivery-mode', [['1', '1 – non-persistent'], ['2', '2 – persistent']], '1');
    const headers = h('input', { id: 'publish-headers', placeholder: '{"x-delay": 5000}' });
    const props = h('input', { id: 'publish-properties', placeholder: '{"content_type": "text/plain"}' });
    const payload = h('textarea', { id: 'publish-payload', rows: 4, placeholder: 'Message body' });
    const result = h('p', { id: 'publish-result', 'data-test': 'publish-result', class: 'result', hidden: true });
    const btn = h('button', { id: 'publish-submit', type: 'submit', class: 'primary' }, 'Publish message');
    const form = h('form', {
      id: 'publish-form', class: 'form-grid', onsubmit: async ev => {
        ev.preventDefault();
        result.hidden = true;
        const r = await act(btn, () => {
          const properties = Object.assign({ delivery_mode: parseInt(mode.value, 10) }, parseJSONField(props, 'Properties'));
          const hdrs = parseJSONField(headers, 'Headers');
          if (Object.keys(hdrs).length) properties.headers = hdrs;
          return api('POST', base + '/publish', { properties, routing_key: key.value, payload: payload.value, payload_encoding: 'string' });
        });
        if (r === undefined) return;
        result.hidden = false;
        result.className = 'result ' + (r.routed ? 'good' : 'warn');
        result.setAttribute('data-routed', String(!!r.routed));
        result.textContent = r.routed ? 'Message published and routed.' : 'Message published, but not routed to any queue.';
        refresh();
      },
    }, field('Routing key', key), field('Delivery mode', mode), field('Headers (JSON)', headers),
    field('Properties (JSON)', props), field('Payload', payload), h('div', { class: 'actions' }, btn), result);
    const builtin = xname === 'amq.default' || xname.startsWith('amq.');
    const del = builtin ? null : h('button', {
      id: 'exchange-delete', type: 'button', class: 'danger', onclick: async () => {
        if (!confirmed(`Delete exchange ${xname}?`)) return;
        const r = await act(del, () => api('DELETE', base), `Exchange ${xname} deleted.`);
        if (r !== undefined) location.hash = '#/exchanges';
      },
    }, 'Delete exchange');
    const el = h('div', { 'data-test': 'page-exchange', 'data-name': xname },
      pageHeader(h('span', null, h('small', { class: 'muted' }, 'Exchange '), h('span', { id: 'exchange-title' }, display)),
        pill('vhost ' + vhost, 'muted'), h('a', { href: '#/exchanges', class: 'back' }, '← all exchanges')),
      h('div', { class: 'cols' }, section('Details', infoHolder, bindingsHolder), section('Publish message', form)),
      del ? section('Delete', h('div', { class: 'actions left' }, del)) : null);
    async function refresh() {
      const [x, bindings] = await Promise.all([get(base).catch(notFound), xname === 'amq.default' ? [] : get(base + '/bindings/source').catch(() => [])]);
      if (!x) { replace(infoHolder, h('p', { class: 'error', 'data-test': 'not-found' }, `Exchange ${xname} does not exist in vhost ${vhost}.`)); return; }
      replace(infoHolder, kv([
        ['Type', x.type],
        ['Features', features(x).length ? features(x) : '–'],
        ['Rate in', rate(msgRate(x, 'publish_in'))],
        ['Rate out', rate(msgRate(x, 'publish_out'))],
      ]));
      replace(bindingsHolder, xname === 'amq.default'
        ? h('p', { class: 'muted' }, 'The default exchange routes to the queue named by the routing key.')
        : [h('h3', null, 'Bindings from this exchange'), table('exchange-bindings-table', [
          { title: 'To', get: b => (b.destination_type === 'queue' ? h('a', { href: queueHash({ vhost, name: b.destination }) }, b.destination) : b.destination) },
          { title: 'Type', get: b => b.destination_type },
          { title: 'Routing key', get: b => h('code', null, b.routing_key) },
          { title: 'Arguments', get: b => (Object.keys(b.arguments || {}).length ? json(b.arguments) : '') },
        ], bindings, null, 'No bindings.')]);
    }
    return { el, refresh, every: REFRESH_MS };
  }

  function connectionsPage() {
    let page;
    page = listPage({
      name: 'connections', title: 'Connections', path: '/connections', test: 'connections-table',
      sort: (a, b) => (a.name < b.name ? -1 : 1), empty: 'No open connections.',
      rowAttrs: c => ({ 'data-test': 'connection-row', 'data-name': c.name, 'data-user': c.user, 'data-vhost': c.vhost }),
      columns: [
        { title: 'Name', get: c => c.name },
        { title: 'User', get: c => c.user },
        { title: 'Virtual host', get: c => c.vhost },
        { title: 'State', get: c => pill(c.state || 'running', c.state === 'blocked' || c.state === 'blocking' ? 'bad' : 'good') },
        { title: 'Protocol', get: c => (c.protocol || '') + (c.ssl ? ' (TLS)' : '') },
        { title: 'Client', get: c => { const p = c.client_properties || {}; return [p.product, p.version].filter(Boolean).join(' ') || '–'; } },
        { title: 'Channels', cls: 'num', get: c => num(c.channels) },
        { title: 'From client', cls: 'num', get: c => bytes(detailRate(c, 'recv_oct')) + '/s' },
        { title: 'To client', cls: 'num', get: c => bytes(detailRate(c, 'send_oct')) + '/s' },
        { title: '', get: c => h('button', {
          type: 'button', class: 'small danger', 'data-test': 'connection-close', 'data-name': c.name, onclick: async ev => {
            if (!confirmed(`Close connection ${c.name}?`)) return;
            const r = await act(ev.target, () => api('DELETE', `/connections/${enc(c.name)}`, undefined,
              { headers: { 'X-Reason': 'Closed via management console' } }), 'Connection closed.');
            if (r !== undefined) page.refresh();
          },
        }, 'Close') },
      ],
    });
    return page;
  }

  function channelsPage() {
    return listPage({
      name: 'channels', title: 'Channels', path: '/channels', test: 'channels-table',
      sort: (a, b) => (a.name < b.name ? -1 : 1), empty: 'No open channels.',
      rowAttrs: c => ({ 'data-test': 'channel-row', 'data-name': c.name }),
      columns: [
        { title: 'Channel', get: c => c.name },
        { title: 'User', get: c => c.user },
        { title: 'Virtual host', get: c => c.vhost },
        { title: 'Mode', get: c => [c.confirm ? pill('C', 'feat') : null, c.transactional ? pill('T', 'feat') : null] },
        { title: 'State', get: c => pill(c.state || 'running', c.state === 'running' || !c.state ? 'good' : 'warn') },
        { title: 'Prefetch', cls: 'num', get: c => num(c.prefetch_count) },
        { title: 'Unacked', cls: 'num', get: c => num(c.messages_unacknowledged) },
        { title: 'Consumers', cls: 'num', get: c => num(c.consumer_count) },
        { title: 'Publish', cls: 'num', get: c => rate(msgRate(c, 'publish')) },
        { title: 'Deliver / get', cls: 'num', get: c => rate(msgRate(c, 'deliver_get')) },
        { title: 'Ack', cls: 'num', get: c => rate(msgRate(c, 'ack')) },
      ],
    });
  }

  function usersPage() {
    const name = h('input', { id: 'user-name', required: true, autocomplete: 'off' });
    const pass = h('input', { id: 'user-password', type: 'password', autocomplete: 'new-password' });
    const tagInput = h('input', { id: 'user-tags', placeholder: 'administrator, monitoring', list: 'user-tag-list' });
    const add = h('button', { id: 'user-add', type: 'submit', class: 'primary' }, 'Add user');
    const permUser = h('input', { id: 'perm-user', required: true, placeholder: 'user name' });
    const permVhostHolder = h('span');
    const conf = h('input', { id: 'perm-configure', value: '.*' });
    const write = h('input', { id: 'perm-write', value: '.*' });
    const read = h('input', { id: 'perm-read', value: '.*' });
    const setPerm = h('button', { id: 'perm-set', type: 'submit' }, 'Set permission');
    const permHolder = h('div');
    let page;
    const userForm = h('form', {
      id: 'user-form', class: 'form-grid', onsubmit: async ev => {
        ev.preventDefault();
        const r = await act(add, () => api('PUT', `/users/${enc(name.value)}`, {
          password: pass.value, tags: tagInput.value.split(',').map(s => s.trim()).filter(Boolean).join(','),
        }), `User ${name.value} added.`);
        if (r !== undefined) { permUser.value = name.value; name.value = ''; pass.value = ''; tagInput.value = ''; await page.refresh(); }
      },
    }, field('Username', name), field('Password', pass), field('Tags (comma-separated)', tagInput),
    h('datalist', { id: 'user-tag-list' }, ['administrator', 'monitoring', 'policymaker', 'management', 'impersonator'].map(t => h('option', { value: t }))),
    h('div', { class: 'actions' }, add));
    const permForm = h('form', {
      id: 'perm-form', class: 'form-grid', onsubmit: async ev => {
        ev.preventDefault();
        const vhost = $('#perm-vhost').value;
        const r = await act(setPerm, () => api('PUT', `/permissions/${enc(vhost)}/${enc(permUser.value)}`,
          { configure: conf.value, write: write.value, read: read.value }), 'Permission set.');
        if (r !== undefined) await page.refresh();
      },
    }, field('User', permUser), field('Virtual host', permVhostHolder), field('Configure', conf), field('Write', write),
    field('Read', read), h('div', { class: 'actions' }, setPerm));
    vhostSelect('perm-vhost').then(s => permVhostHolder.appendChild(s));
    page = listPage({
      name: 'users', title: 'Users', path: '/users', test: 'users-table', sort: (a, b) => (a.name < b.name ? -1 : 1),
      rowAttrs: u => ({ 'data-test': 'user-row', 'data-name': u.name }),
      columns: [
        { title: 'Name', get: u => u.name },
        { title: 'Tags', get: u => tags(u.tags) || h('span', { class: 'muted' }, 'none') },
        { title: 'Password', get: u => (u.password_hash ? 'set' : h('span', { class: 'muted' }, 'none')) },
        { title: '', get: u => (u.name === state.user ? h('small', { class: 'muted' }, 'you') : h('button', {
          type: 'button', class: 'small danger', 'data-test': 'user-delete', 'data-name': u.name, onclick: async ev => {
            if (!confirmed(`Delete user ${u.name}?`)) return;
            const r = await act(ev.target, () => api('DELETE', `/users/${enc(u.name)}`), `User ${u.name} deleted.`);
            if (r !== undefined) page.refresh();
          },
        }, 'Delete')) },
      ],
      forms: [section('Add a user', userForm), section('Permissions', permHolder, permForm)],
    });
    const refreshUsers = page.refresh;
    page.refresh = async () => {
      const [, perms] = await Promise.all([refreshUsers(), get('/permissions').catch(e => e)]);
      if (perms instanceof Error) { replace(permHolder, perms.denied ? deniedBlock(perms) : h('p', { class: 'error' }, perms.message)); return; }
      replace(permHolder, table('permissions-table', [
        { title: 'User', get: p => p.user },
        { title: 'Virtual host', get: p => p.vhost },
        { title: 'Configure', get: p => h('code', null, p.configure) },
        { title: 'Write', get: p => h('code', null, p.write) },
        { title: 'Read', get: p => h('code', null, p.read) },
        { title: '', get: p => h('button', {
          type: 'button', class: 'small', 'data-test': 'perm-clear', onclick: async ev => {
            const r = await act(ev.target, () => api('DELETE', `/permissions/${enc(p.vhost)}/${enc(p.user)}`), 'Permission cleared.');
            if (r !== undefined) page.refresh();
          },
        }, 'Clear') },
      ], perms.sort((a, b) => (a.user + a.vhost < b.user + b.vhost ? -1 : 1)), p => ({ 'data-test': 'permission-row', 'data-user': p.user, 'data-vhost': p.vhost }), 'No permissions.'));
    };
    return page;
  }

  function vhostsPage() {
    const name = h('input', { id: 'vhost-name', required: true, placeholder: 'staging' });
    const desc = h('input', { id: 'vhost-description', placeholder: 'optional' });
    const add = h('button', { id: 'vhost-add', type: 'submit', class: 'primary' }, 'Add virtual host');
    const admin = can.administer();
    let page;
    const form = h('form', {
      id: 'vhost-form', class: 'form-grid', onsubmit: async ev => {
        ev.preventDefault();
        const body = desc.value ? { description: desc.value } : {};
        const r = await act(add, () => api('PUT', `/vhosts/${enc(name.value)}`, body), `Virtual host ${name.value} added.`);
        if (r !== undefined) { name.value = ''; desc.value = ''; state.vhosts = null; await page.refresh(); }
      },
    }, field('Name', name), field('Description', desc), h('div', { class: 'actions' }, add));
    page = listPage({
      name: 'vhosts', title: 'Virtual hosts', path: '/vhosts', test: 'vhosts-table', sort: (a, b) => (a.name < b.name ? -1 : 1),
      rowAttrs: v => ({ 'data-test': 'vhost-row', 'data-name': v.name }),
      columns: [
        { title: 'Name', get: v => v.name },
        { title: 'Description', get: v => v.description || (v.metadata && v.metadata.description) || '' },
        { title: 'Ready', cls: 'num', get: v => num(v.messages_ready) },
        { title: 'Unacked', cls: 'num', get: v => num(v.messages_unacknowledged) },
        { title: 'Total', cls: 'num', get: v => num(v.messages) },
        { title: 'Publish', cls: 'num', get: v => rate(msgRate(v, 'publish')) },
        { title: 'Deliver / get', cls: 'num', get: v => rate(msgRate(v, 'deliver_get')) },
        admin && { title: '', get: v => h('button', {
          type: 'button', class: 'small danger', 'data-test': 'vhost-delete', 'data-name': v.name, onclick: async ev => {
            if (!confirmed(`Delete virtual host ${v.name} and everything in it?`)) return;
            const r = await act(ev.target, () => api('DELETE', `/vhosts/${enc(v.name)}`), `Virtual host ${v.name} deleted.`);
            if (r !== undefined) { state.vhosts = null; page.refresh(); }
          },
        }, 'Delete') },
      ].filter(Boolean),
      forms: admin ? section('Add a virtual host', form)
        : h('p', { class: 'muted', 'data-test': 'vhosts-need-administrator' }, 'Adding and deleting virtual hosts needs the administrator tag.'),
    });
    return page;
  }

  function policiesPage() {
    const name = h('input', { id: 'policy-name', required: true, placeholder: 'ttl-orders' });
    const pattern = h('input', { id: 'policy-pattern', required: true, placeholder: '^orders\\.' });
    const applyTo = select('policy-apply-to', [['all', 'Exchanges and queues'], ['queues', 'Queues'], ['exchanges', 'Exchanges']], 'queues');
    const priority = h('input', { id: 'policy-priority', type: 'number', value: '0' });
    const definition = h('textarea', { id: 'policy-definition', rows: 2, placeholder: '{"message-ttl": 60000}' });
    const vhostHolder = h('span');
    const add = h('button', { id: 'policy-add', type: 'submit', class: 'primary' }, 'Add policy');
    const policymaker = can.makePolicies();
    let page;
    const form = h('form', {
      id: 'policy-form', class: 'form-grid', onsubmit: async ev => {
        ev.preventDefault();
        const vhost = $('#policy-vhost').value;
        const r = await act(add, () => api('PUT', `/policies/${enc(vhost)}/${enc(name.value)}`, {
          pattern: pattern.value, definition: parseJSONField(definition, 'Definition'),
          priority: parseInt(priority.value, 10) || 0, 'apply-to': applyTo.value,
        }), `Policy ${name.value} set.`);
        if (r !== undefined) { name.value = ''; await page.refresh(); }
      },
    }, field('Virtual host', vhostHolder), field('Name', name), field('Pattern', pattern), field('Apply to', applyTo),
    field('Priority', priority), field('Definition (JSON)', definition), h('div', { class: 'actions' }, add));
    if (policymaker) vhostSelect('policy-vhost').then(s => vhostHolder.appendChild(s));
    page = listPage({
      name: 'policies', title: 'Policies', path: '/policies', test: 'policies-table', sort: byVhostName,
      empty: 'No policies.',
      rowAttrs: p => ({ 'data-test': 'policy-row', 'data-name': p.name, 'data-vhost': p.vhost }),
      columns: [
        { title: 'Virtual host', get: p => p.vhost },
        { title: 'Name', get: p => p.name },
        { title: 'Pattern', get: p => h('code', null, p.pattern) },
        { title: 'Apply to', get: p => p['apply-to'] },
        { title: 'Definition', get: p => Object.entries(p.definition || {}).map(([k, v]) => pill(`${k}: ${json(v)}`, 'arg')) },
        { title: 'Priority', cls: 'num', get: p => num(p.priority) },
        policymaker && { title: '', get: p => h('button', {
          type: 'button', class: 'small danger', 'data-test': 'policy-delete', 'data-name': p.name, onclick: async ev => {
            if (!confirmed(`Delete policy ${p.name}?`)) return;
            const r = await act(ev.target, () => api('DELETE', `/policies/${enc(p.vhost)}/${enc(p.name)}`), `Policy ${p.name} deleted.`);
            if (r !== undefined) page.refresh();
          },
        }, 'Delete') },
      ].filter(Boolean),
      forms: policymaker ? section('Add a policy', form)
        : h('p', { class: 'muted', 'data-test': 'policies-need-policymaker' }, 'Setting and deleting policies needs the policymaker or administrator tag.'),
    });
    return page;
  }

  function notPermittedPage(tag) {
    return { el: h('div', { 'data-test': 'page-not-permitted' }, pageHeader('Not permitted'),
      h('p', { class: 'error denied', 'data-test': 'not-permitted' }, `This page needs the ${tag} tag, which your user does not have.`),
      h('p', null, h('a', { href: '#/' }, 'Back to the overview'))) };
  }

  // A refresh refused with a 401 other than a login failure: say so under the page's title and
  // keep the session; the next successful refresh (e = null) takes the message away.
  function pageDenied(page, e) {
    let el = page.el.querySelector(':scope > [data-test=not-permitted]');
    if (!e) { if (el) el.remove(); return; }
    if (!el) {
      el = h('p', { class: 'error denied', 'data-test': 'not-permitted' });
      const head = page.el.querySelector(':scope > .page-head');
      if (head) head.after(el); else page.el.prepend(el);
    }
    el.textContent = e.message;
  }

  // ---------- router ----------

  const ROUTES = {
    '': overviewPage, overview: overviewPage, connections: connectionsPage, channels: channelsPage,
    exchanges: exchangesPage, queues: queuesPage, users: usersPage, vhosts: vhostsPage, policies: policiesPage,
  };

  function parseHash() {
    const raw = location.hash.replace(/^#\/?/, '');
    return raw ? raw.split('/').map(s => { try { return decodeURIComponent(s); } catch (e) { return s; } }) : [];
  }

  function route() {
    clearInterval(state.timer);
    state.timer = null;
    const token = ++state.token;
    if ($('#notice').className === 'error') $('#notice').hidden = true;  // errors belong to the page left
    const parts = parseHash();
    let page;
    if (!state.auth || parts[0] === 'login') {
      if (state.auth && parts[0] === 'login') { location.hash = '#/'; return; }
      if (parts[0] !== 'login') { state.after = location.hash; location.hash = '#/login'; return; }
      page = loginPage();
    } else {
      $('#topbar').hidden = false;
      $('#footer').hidden = false;
      $('#whoami').textContent = state.user || '';
      $('#whoami').title = state.tags ? 'Tags: ' + (state.tags.join(', ') || 'none') : '';
      if (state.tags === null && !state.tagsAsked) { state.tagsAsked = true; loadTags(); }
      applyNav();
      const [name, a, b] = parts;
      const need = Object.hasOwn(PAGE_NEEDS, name || '') ? PAGE_NEEDS[name] : null;
      if (need && !need.allowed()) page = notPermittedPage(need.tag);
      else if (name === 'queues' && parts.length === 3) page = queuePage(a, b);
      else if (name === 'exchanges' && parts.length === 3) page = exchangePage(a, b);
      else if (ROUTES[name || '']) page = ROUTES[name || '']();
      else page = { el: h('div', { 'data-test': 'page-missing' }, pageHeader('Not found'), h('p', null, h('a', { href: '#/' }, 'Back to the overview'))) };
      for (const link of document.querySelectorAll('#nav a')) {
        link.classList.toggle('active', link.dataset.route === (name || 'overview'));
      }
    }
    state.page = page;
    replace($('#app'), page.el);
    if (page.refresh) {
      const tick = async () => {
        if (state.busy || token !== state.token) return;
        state.busy = true;
        try {
          await page.refresh();
          if (token === state.token) {
            pageDenied(page, null);
            $('#footer-refresh').textContent = `Updated ${new Date().toLocaleTimeString('en-GB')} · refreshing every ${page.every / 1000} s`;
            document.body.dataset.loaded = String(token);
          }
        } catch (e) {
          if (token === state.token && e.denied) pageDenied(page, e);
          else if (token === state.token && !e.loggedOut) notify(e.message, 'error');
        } finally {
          state.busy = false;
        }
      };
      state.busy = false;
      tick();
      state.timer = setInterval(() => { if (!document.hidden) tick(); }, page.every);
    }
  }

  window.addEventListener('hashchange', route);
  window.addEventListener('resize', () => { if (state.page && state.page.resize) state.page.resize(); });
  $('#logout').addEventListener('click', () => logout(null));
  route();
})();
