/*
 * SecondSite web console: a single page over the public REST API (/api/v1). Plain JavaScript,
 * no build step. The session token (POST /api/v1/sessions) lives in sessionStorage and goes out
 * as "Authorization: Bearer". Pages poll every few seconds (answering If-None-Match when the API
 * sends ETags) and update in place: forms keep what is typed, charts get new points.
 * Action buttons (class "act") are drawn only for operators and admins; the API refuses a viewer
 * anyway. An action's button is disabled while its request is in flight, so a double click sends
 * one request.
 */
'use strict';
(function () {
  const API = '/api/v1';
  const KEY = 'secondsite.session';
  const MESSAGE_KEY = 'secondsite.loginMessage';
  const POLL_MS = 5000;
  const main = document.getElementById('main');
  const etags = new Map();
  let session = readSession();
  let current = null; // {name, refresh, dispose}
  let timer = null;
  let refreshing = false;

  // ---------- helpers ----------
  class ApiError extends Error {
    constructor(status, title, detail, field) {
      super(detail ? title + ': ' + detail : title);
      this.status = status; this.title = title; this.detail = detail || ''; this.field = field || null;
    }
  }

  function esc(v) {
    return String(v === null || v === undefined ? '' : v).replace(/[&<>"']/g,
      c => ({'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}[c]));
  }
  /** Tagged template: interpolations are escaped unless wrapped in raw(). */
  function html(strings, ...values) {
    let out = strings[0];
    values.forEach((v, i) => {
      out += (v && v.__raw !== undefined) ? v.__raw : Array.isArray(v) ? v.map(x => x && x.__raw !== undefined ? x.__raw : esc(x)).join('') : esc(v);
      out += strings[i + 1];
    });
    return {__raw: out};
  }
  function raw(s) { return {__raw: s}; }
  function set(el, content) { if (el) el.innerHTML = content.__raw; }
  function $(sel, root) { return (root || document).querySelector(sel); }

  function fieldOf(detail) {
    const m = /(?:field|query parameter) '([^']+)'/.exec(detail || '');
    if (m) return m[1];
    // "no registered component 'x' (agentId)", "no policy 'gold' (policyId)": the field in parentheses at the end.
    const t = /\(([A-Za-z][A-Za-z0-9]*(?:\[\d+\])?(?:\.[A-Za-z0-9]+)*)\)\s*$/.exec(detail || '');
    return t ? t[1] : null;
  }
  function fmtBytes(n) {
    if (n === null || n === undefined || isNaN(n)) return '–';
    const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let i = 0; let v = Math.abs(n);
    while (v >= 1024 && i < u.length - 1) { v /= 1024; i++; }
    return (n < 0 ? '-' : '') + (i === 0 ? v.toFixed(0) : v.toFixed(v < 10 ? 1 : 0)) + ' ' + u[i];
  }
  function fmtRate(n) { return fmtBytes(n) + '/s'; }
  function fmtDuration(ms) {
    if (ms === null || ms === undefined) return '–';
    const s = ms / 1000;
    if (s < 1) return ms.toFixed(0) + ' ms';
    if (s < 120) return s.toFixed(s < 10 ? 1 : 0) + ' s';
    if (s < 7200) return (s / 60).toFixed(0) + ' min';
    if (s < 172800) return (s / 3600).toFixed(1) + ' h';
    return (s / 86400).toFixed(1) + ' d';
  }
  function fmtTime(iso) {
    if (!iso) return '–';
    const d = new Date(iso);
    return isNaN(d) ? iso : d.toLocaleString();
  }
  function stamp() {
    const d = new Date(); const p = n => String(n).padStart(2, '0');
    return d.getFullYear() + p(d.getMonth() + 1) + p(d.getDate()) + '-' + p(d.getHours()) + p(d.getMinutes())
      + p(d.getSeconds()) + '-' + Math.random().toString(36).slice(2, 5);
  }
  function td(label, content, cls) {
    return html`<td data-label="${label}"${raw(cls ? ' class="' + cls + '"' : '')}>${content}</td>`;
  }
  function pill(text, cls) { return html`<span class="pill ${cls}">${text}</span>`; }
  function errorBox(e) {
    return html`<p class="form-error" role="alert">${e instanceof ApiError ? e.title + (e.detail ? ': ' + e.detail : '') : String(e)}</p>`;
  }

  // ---------- session and API ----------
  function readSession() {
    try { const s = JSON.parse(sessionStorage.getItem(KEY)); return s && s.token ? s : null; } catch (e) { return null; }
  }
  function canAct() { return !!session && session.roles.some(r => r === 'operator' || r === 'admin'); }
  function isAdmin() { return !!session && session.roles.includes('admin'); }

  async function api(method, path, body) {
    const headers = {'Accept': 'application/json'};
    if (session) headers.Authorization = 'Bearer ' + session.token;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const cached = method === 'GET' ? etags.get(path) : null;
    if (cached) headers['If-None-Match'] = cached.etag;
    let res;
    try {
      res = await fetch(API + path, {method, headers, credentials: 'omit', cache: 'no-store',
        body: body === undefined ? undefined : JSON.stringify(body)});
    } catch (e) {
      throw new ApiError(0, 'The appliance did not answer', e.message);
    }
    if (res.status === 304 && cached) return cached.body;
    const text = await res.text();
    let data = null;
    if (text) { try { data = JSON.parse(text); } catch (e) { data = null; } }
    if (!res.ok) {
      const p = data && typeof data === 'object' && !Array.isArray(data) ? data : {};
      const err = new ApiError(res.status, p.title || res.statusText || ('HTTP ' + res.status),
        p.detail || (data ? '' : text.slice(0, 200)), p.field || fieldOf(p.detail));
      if (res.status === 401 && path !== '/sessions') { err.expired = true; expire(err.detail); }
      throw err;
    }
    const etag = res.headers.get('ETag');
    if (method === 'GET' && etag) etags.set(path, {etag, body: data});
    return data;
  }

  function expire(detail) {
    if (!session) return;
    session = null;
    sessionStorage.removeItem(KEY);
    sessionStorage.setItem(MESSAGE_KEY, /expired/.test(detail || '')
      ? 'Your session expired after 30 minutes without activity. Please log in again.'
      : 'You were logged out: ' + (detail || 'the appliance no longer accepts the session') + '.');
    location.hash = '#/login';
    route();
  }

  // ---------- actions and forms ----------
  function banner(text, info) {
    const b = document.getElementById('banner');
    b.textContent = text || '';
    b.classList.toggle('info', !!info);
    b.hidden = !text;
  }

  /** Runs fn once per click: the button stays disabled while it runs (no double submission). */
  async function act(button, fn) {
    if (button.disabled) return;
    button.disabled = true;
    button.setAttribute('aria-busy', 'true');
    banner('');
    try {
      await fn();
    } catch (e) {
      if (!e.expired) banner(e instanceof ApiError ? e.title + ': ' + e.detail : String(e));
    } finally {
      button.disabled = false;
      button.removeAttribute('aria-busy');
    }
  }

  /** Submits a form once at a time; API errors go next to the named field, others above the button. */
  function bindForm(form, fn) {
    form.addEventListener('submit', async ev => {
      ev.preventDefault();
      const submit = form.querySelector('button[type="submit"]');
      if (submit.disabled) return;
      submit.disabled = true;
      submit.setAttribute('aria-busy', 'true');
      clearErrors(form);
      const values = {};
      new FormData(form).forEach((v, k) => { values[k] = String(v).trim(); });
      try {
        await fn(values);
      } catch (e) {
        if (e.expired) return; // back on the login page already
        const input = placeError(form, e);
        if (input) input.focus();
      } finally {
        submit.disabled = false;
        submit.removeAttribute('aria-busy');
      }
    });
  }
  function clearErrors(form) {
    form.querySelectorAll('.field-error').forEach(p => { p.textContent = ''; });
    form.querySelectorAll('[aria-invalid]').forEach(i => i.removeAttribute('aria-invalid'));
    const general = form.querySelector('.form-error');
    if (general) general.textContent = '';
  }
  /**
   * Shows an error next to the input its problem details name: the input of that name
   * ("disks[1].source"), else the first input under it ("disks[0].options" → "disks[0].options.listen"),
   * else an element marked data-field, trying shorter paths ("disks[3].source" → "disks[3]" → "disks");
   * otherwise in the form's general error line. Returns the input chosen, or null.
   */
  function placeError(form, e) {
    const text = e instanceof ApiError ? (e.detail || e.title) : String(e);
    let name = e instanceof ApiError ? e.field : null;
    let input = null;
    while (name && !input) {
      const q = CSS.escape(name);
      input = form.querySelector('[name="' + q + '"]') || form.querySelector('[name^="' + q + '."]')
        || form.querySelector('[data-field="' + q + '"]');
      if (!input) { const cut = name.search(/[.[][^.[]*$/); name = cut > 0 ? name.slice(0, cut) : null; }
    }
    const p = input ? (input.getAttribute('aria-describedby') || '').split(/\s+/).map(id => id && document.getElementById(id))
      .find(el => el && el.classList.contains('field-error')) : null;
    if (input && p) {
      input.setAttribute('aria-invalid', 'true');
      p.textContent = (e.title ? e.title + ': ' : '') + text;
      return input;
    }
    const general = form.querySelector('.form-error');
    general.textContent = e instanceof ApiError ? e.title + ': ' + text : text;
    return null;
  }
  function field(name, label, attrs) {
    const id = 'f-' + name;
    return html`<div><label for="${id}">${label}</label><input id="${id}" name="${name}" aria-describedby="${id}-err" ${raw(attrs || '')}><p class="field-error" id="${id}-err" aria-live="polite"></p></div>`;
  }

  // ---------- router ----------
  const pages = {dashboard, disk, points, machines, jobs, protect, alerts, policies, plugins};

  function route() {
    if (current && current.dispose) current.dispose();
    current = null;
    clearInterval(timer);
    banner('');
    // "#/jobs/12?machine=web-01": the page and its arguments; a page reads its query from location.hash.
    const parts = location.hash.replace(/^#\/?/, '').split('?')[0].split('/').map(decodeURIComponent);
    const top = document.getElementById('top');
    if (!session) {
      top.hidden = true;
      login();
      return;
    }
    top.hidden = false;
    document.getElementById('who').textContent = session.user + ' (' + session.roles.join(', ') + ')';
    let name = parts[0] || 'dashboard';
    if (name === 'login' || !pages[name]) { name = 'dashboard'; history.replaceState(null, '', '#/dashboard'); }
    document.querySelectorAll('#nav .needs-act').forEach(li => { li.hidden = !canAct(); });
    document.querySelectorAll('#nav a').forEach(a => {
      if (a.dataset.page === (name === 'disk' ? 'dashboard' : name)) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    });
    current = Object.assign({name}, pages[name](parts.slice(1)));
    main.focus({preventScroll: true});
    tick();
    timer = setInterval(tick, POLL_MS);
  }

  async function tick() {
    if (refreshing || !current || document.hidden) return;
    refreshing = true;
    const page = current;
    try {
      await page.refresh();
      api('GET', '/alerts?active=true&limit=1').then(a => {
        const b = document.getElementById('nav-alerts');
        b.textContent = a.total; b.hidden = !a.total;
      }, () => {});
    } catch (e) {
      if (page === current && !e.expired) banner(e instanceof ApiError ? e.title + ': ' + e.detail : String(e));
    } finally {
      refreshing = false;
    }
  }

  // ---------- login ----------
  function login() {
    // Kept until the next login succeeds: the page may be drawn twice (route() and hashchange).
    const message = sessionStorage.getItem(MESSAGE_KEY);
    set(main, html`<div class="login card">
      <h1>Log in to SecondSite</h1>
      <p id="login-message" class="banner info" role="status"${raw(message ? '' : ' hidden')}>${message || ''}</p>
      <form id="login-form" novalidate>
        <div class="row"><label for="login-user">User</label>
          <input id="login-user" name="user" autocomplete="username" aria-describedby="login-user-err" required>
          <p class="field-error" id="login-user-err"></p></div>
        <div class="row"><label for="login-password">Password</label>
          <input id="login-password" name="password" type="password" autocomplete="current-password" aria-describedby="login-password-err" required>
          <p class="field-error" id="login-password-err"></p></div>
        <p class="form-error" role="alert"></p>
        <button id="login-submit" type="submit">Log in</button>
      </form></div>`);
    const form = $('#login-form');
    bindForm(form, async v => {
      const s = await api('POST', '/sessions', {user: v.user, password: v.password});
      session = {token: s.token, user: s.user, roles: s.roles, expiresAt: s.expiresAt};
      sessionStorage.setItem(KEY, JSON.stringify(session));
      sessionStorage.removeItem(MESSAGE_KEY);
      if (!location.hash || location.hash === '#/login') location.hash = '#/dashboard';
      route();
    });
    $('#login-user').focus();
  }

  document.getElementById('logout').addEventListener('click', ev => act(ev.currentTarget, async () => {
    try { await api('DELETE', '/sessions/current'); } catch (e) { /* already gone */ }
    session = null;
    sessionStorage.removeItem(KEY);
    sessionStorage.setItem(MESSAGE_KEY, 'You logged out.');
    location.hash = '#/login';
    route();
  }));

  // ---------- replication figures ----------
  /** GET /replication rows grouped by disk: worst lag is the RPO, capture rate in, apply rate out. */
  function byDisk(rows) {
    const m = new Map();
    for (const r of rows) {
      let d = m.get(r.disk);
      if (!d) { d = {disk: r.disk, stages: [], rpoMs: 0, backlog: 0, inRate: r.bytesInPerSecond, outRate: 0, resync: null}; m.set(r.disk, d); }
      d.stages.push(r);
      d.rpoMs = Math.max(d.rpoMs, r.lagMillis);
      d.backlog += r.backlogBytes;
      d.outRate = r.bytesOutPerSecond;
      if (r.resync) d.resync = r.resync;
    }
    return [...m.values()];
  }
  let policyCache = null;
  async function threshold() {
    try {
      const p = await api('GET', '/policies?limit=200');
      const items = p.items || [];
      policyCache = items.find(x => x.id === 'default') || items[0] || null;
    } catch (e) { policyCache = null; }
    return policyCache ? {seconds: policyCache.rpoThresholdSeconds, source: 'policy ' + policyCache.id}
      : {seconds: 900, source: 'no policy: 15 min assumed'};
  }
  function rpoPill(ms, limitSec) {
    return ms > limitSec * 1000 ? pill('over', 'bad') : ms > limitSec * 500 ? pill('near', 'warn') : pill('ok', 'ok');
  }
  function resyncCell(r) {
    if (!r || r.phase === 'done') return html`<span class="muted">${r ? 'done' : '–'}</span>`;
    if (r.phase === 'failed') return pill('resync failed', 'bad');
    const eta = r.etaSeconds === null || r.etaSeconds === undefined ? 'ETA unknown' : 'ETA ' + fmtDuration(r.etaSeconds * 1000);
    return html`<progress max="100" value="${r.percent.toFixed(1)}" aria-label="resync ${r.percent.toFixed(0)} percent"></progress>
      ${r.percent.toFixed(0)}% <span class="muted">${r.phase}, ${eta}</span>`;
  }

  // ---------- dashboard ----------
  function dashboard() {
    set(main, html`<h1>Dashboard</h1>
      <div class="grid" id="stats"></div>
      <section class="card" aria-labelledby="h-repl"><h2 id="h-repl">Protected disks</h2><div id="repl">Loading…</div></section>
      <section class="card" aria-labelledby="h-comp"><h2 id="h-comp">Components</h2><div id="comps">Loading…</div></section>`);
    return {refresh: async () => {
      const [health, comps, repl, alertsPage, limit] = await Promise.allSettled([api('GET', '/health'),
        api('GET', '/components?limit=200'), api('GET', '/replication'), api('GET', '/alerts?active=true&limit=1'),
        threshold()]);
      const disks = repl.status === 'fulfilled' ? byDisk(repl.value) : [];
      const t = limit.value;
      const worst = disks.reduce((a, d) => Math.max(a, d.rpoMs), 0);
      const inRate = disks.reduce((a, d) => a + d.inRate, 0);
      const outRate = disks.reduce((a, d) => a + d.outRate, 0);
      const h = health.status === 'fulfilled' ? health.value : null;
      set($('#stats'), html`
        <div class="card"><h2>Appliance</h2><div class="stat ${h && h.status === 'OK' ? 'ok' : 'bad'}">${h ? h.status : '?'}</div>
          <div class="muted">${h ? 'role ' + h.role + ', version ' + h.version : 'health unavailable'}</div></div>
        <div class="card"><h2>Worst RPO</h2><div class="stat" id="worst-rpo">${disks.length ? fmtDuration(worst) : '–'}</div>
          <div class="muted">threshold ${fmtDuration(t.seconds * 1000)} (${t.source})</div></div>
        <div class="card"><h2>Active alerts</h2><div class="stat" id="alert-count">${alertsPage.status === 'fulfilled' ? alertsPage.value.total : '?'}</div>
          <div class="muted"><a href="#/alerts">see alerts</a></div></div>
        <div class="card"><h2>Throughput</h2><div class="stat">${fmtRate(inRate)}</div>
          <div class="muted">captured; ${fmtRate(outRate)} applied</div></div>`);
      if (repl.status === 'rejected') set($('#repl'), errorBox(repl.reason));
      else if (!disks.length) set($('#repl'), html`<p class="muted">No disk replicates in this appliance.</p>`);
      else set($('#repl'), html`<table class="responsive" id="disk-table"><thead><tr><th>Disk</th><th>Stages</th><th class="num">RPO</th><th>vs threshold</th>
        <th class="num">Backlog</th><th class="num">In</th><th class="num">Out</th><th>Resync</th></tr></thead><tbody>
        ${disks.map(d => html`<tr data-disk="${d.disk}">
          ${td('Disk', html`<a href="#/disk/${encodeURIComponent(d.disk)}">${d.disk}</a>`)}
          ${td('Stages', d.stages.map(s => html`<span class="pill ${/replicating|idle|ok/.test(s.state) ? 'ok' : 'warn'}" title="${s.message}">${s.stage}: ${s.state}</span> `))}
          ${td('RPO', fmtDuration(d.rpoMs), 'num')}
          ${td('vs threshold', rpoPill(d.rpoMs, t.seconds))}
          ${td('Backlog', fmtBytes(d.backlog), 'num')}
          ${td('In', fmtRate(d.inRate), 'num')}
          ${td('Out', fmtRate(d.outRate), 'num')}
          ${td('Resync', resyncCell(d.resync))}</tr>`)}</tbody></table>`);
      if (comps.status === 'rejected') set($('#comps'), errorBox(comps.reason));
      else set($('#comps'), comps.value.items.length ? html`<table class="responsive"><thead><tr><th>Id</th><th>Role</th><th>Site</th><th>State</th><th>Last heartbeat</th><th>Address</th></tr></thead><tbody>
        ${comps.value.items.map(c => html`<tr>${td('Id', c.id)}${td('Role', c.role)}${td('Site', c.site)}
          ${td('State', pill(c.state, c.state === 'active' || c.state === 'healthy' || c.state === 'registered' ? 'ok' : c.state === 'removed' ? 'muted' : 'warn'))}
          ${td('Last heartbeat', c.lastHeartbeat ? fmtTime(c.lastHeartbeat) : 'never')}${td('Address', c.address)}</tr>`)}</tbody></table>`
        : html`<p class="muted">No component is registered.</p>`);
    }};
  }

  // ---------- disk detail with charts ----------
  function chart(el, opts, data) {
    if (typeof uPlot === 'undefined') { el.textContent = 'The chart library did not load.'; return null; }
    const width = Math.max(280, el.clientWidth || 600);
    return new uPlot(Object.assign({width, height: 220}, opts), data, el);
  }
  function disk(args) {
    const id = args[0] || '';
    let windowIso = 'PT1H';
    let rpoChart = null; let rateChart = null;
    const live = {t: [], rpo: [], inR: [], outR: []};
    set(main, html`<p><a href="#/dashboard">← Dashboard</a></p><h1>Disk ${id}</h1>
      <section class="card"><h2>Replication</h2><div id="stages">Loading…</div></section>
      <section class="card"><div class="chart-head"><h2 id="h-rpo">RPO</h2>
        <label>Window <select id="window"><option value="PT1H">last hour</option><option value="P1D">last day</option></select></label></div>
        <div id="rpo-chart" class="chart" role="img" aria-labelledby="h-rpo" data-points="0"></div></section>
      <section class="card"><h2 id="h-rate">Throughput</h2><div id="rate-chart" class="chart" role="img" aria-labelledby="h-rate" data-points="0"></div></section>
      <section class="card"><h2>Recent events</h2><div id="events">Loading…</div></section>`);
    $('#window').addEventListener('change', ev => { windowIso = ev.target.value; live.t.length = 0; live.rpo.length = 0; live.inR.length = 0; live.outR.length = 0; tick(); });
    const onResize = () => {
      if (rpoChart) rpoChart.setSize({width: $('#rpo-chart').clientWidth, height: 220});
      if (rateChart) rateChart.setSize({width: $('#rate-chart').clientWidth, height: 220});
    };
    window.addEventListener('resize', onResize);
    return {dispose: () => { window.removeEventListener('resize', onResize); if (rpoChart) rpoChart.destroy(); if (rateChart) rateChart.destroy(); },
      refresh: async () => {
        const [rows, hist, limit, events] = await Promise.allSettled([api('GET', '/replication'),
          api('GET', '/replication/history?disk=' + encodeURIComponent(id) + '&window=' + windowIso), threshold(),
          api('GET', '/events?limit=100')]);
        const d = rows.status === 'fulfilled' ? byDisk(rows.value).find(x => x.disk === id) : null;
        if (rows.status === 'rejected') set($('#stages'), errorBox(rows.reason));
        else if (!d) set($('#stages'), html`<p class="muted">Disk ${id} is not replicating in this appliance now.</p>`);
        else set($('#stages'), html`<p>RPO <strong id="disk-rpo">${fmtDuration(d.rpoMs)}</strong> ${rpoPill(d.rpoMs, limit.value.seconds)}
            <span class="muted">threshold ${fmtDuration(limit.value.seconds * 1000)}</span>; resync: ${resyncCell(d.resync)}</p>
          <table class="responsive"><thead><tr><th>Stage</th><th>State</th><th class="num">Sequence</th><th class="num">Acknowledged</th>
          <th class="num">Backlog</th><th class="num">Lag</th><th class="num">In</th><th class="num">Out</th><th>Detail</th></tr></thead><tbody>
          ${d.stages.map(s => html`<tr>${td('Stage', s.stage)}${td('State', s.state)}${td('Sequence', s.lastSequence, 'num')}
            ${td('Acknowledged', s.acknowledgedSequence, 'num')}${td('Backlog', fmtBytes(s.backlogBytes), 'num')}
            ${td('Lag', fmtDuration(s.lagMillis), 'num')}${td('In', fmtRate(s.bytesInPerSecond), 'num')}
            ${td('Out', fmtRate(s.bytesOutPerSecond), 'num')}${td('Detail', s.message || '')}</tr>`)}</tbody></table>`);
        // History from the appliance's sampler, then the live figures seen since, so the charts move between samples.
        const h = hist.status === 'fulfilled' ? hist.value : {epochSeconds: [], rpoMillis: [], inPerSecond: [], outPerSecond: []};
        const now = Date.now() / 1000;
        if (d) { live.t.push(now); live.rpo.push(d.rpoMs / 1000); live.inR.push(d.inRate); live.outR.push(d.outRate); }
        const lastHist = h.epochSeconds.length ? h.epochSeconds[h.epochSeconds.length - 1] : 0;
        while (live.t.length && (live.t[0] <= lastHist || live.t.length > 720)) { live.t.shift(); live.rpo.shift(); live.inR.shift(); live.outR.shift(); }
        const t = h.epochSeconds.concat(live.t);
        const rpo = h.rpoMillis.map(x => x / 1000).concat(live.rpo);
        const lim = t.map(() => limit.value.seconds);
        const inR = h.inPerSecond.concat(live.inR);
        const outR = h.outPerSecond.concat(live.outR);
        const rpoEl = $('#rpo-chart'); const rateEl = $('#rate-chart');
        if (!rpoEl) return;
        if (hist.status === 'rejected' && !t.length) { set(rpoEl, errorBox(hist.reason)); return; }
        if (!rpoChart) {
          rpoEl.textContent = '';
          // The y axis follows the RPO, not the threshold: small RPOs stay readable. The threshold line
          // shows once the RPO reaches a quarter of it (its value is always in the legend and above).
          rpoChart = chart(rpoEl, {scales: {x: {time: true}, y: {range: (u) => {
            let top = 0;
            for (const v of u.data[1]) if (v !== null && v > top) top = v;
            top = Math.max(1, top * 1.25);
            const th = u.data[2].length ? u.data[2][0] : 0;
            return [0, th && th <= top * 4 ? Math.max(top, th * 1.1) : top];
          }}}, series: [{},
            {label: 'RPO (s)', stroke: '#0b5cad', width: 2, fill: 'rgba(11,92,173,0.10)', value: (u, v) => v === null ? '–' : fmtDuration(v * 1000)},
            {label: 'threshold (s)', stroke: '#b00020', width: 1.5, dash: [6, 4]}],
          axes: [{}, {label: 'seconds', size: 60}]}, [t, rpo, lim]);
          rateEl.textContent = '';
          rateChart = chart(rateEl, {scales: {x: {time: true}}, series: [{},
            {label: 'captured', stroke: '#0f6b2f', width: 2, value: (u, v) => v === null ? '–' : fmtRate(v)},
            {label: 'applied', stroke: '#8a4b00', width: 2, value: (u, v) => v === null ? '–' : fmtRate(v)}],
          axes: [{}, {size: 80, values: (u, vals) => vals.map(fmtRate)}]}, [t, inR, outR]);
        } else {
          rpoChart.setData([t, rpo, lim]);
          rateChart.setData([t, inR, outR]);
        }
        rpoEl.dataset.points = String(t.length);
        rateEl.dataset.points = String(t.length);
        if (events.status === 'fulfilled') {
          const mine = events.value.items.filter(e => (e.subject || '').includes(id) || (e.message || '').includes(id)).slice(0, 20);
          set($('#events'), mine.length ? html`<ul>${mine.map(e => html`<li>${fmtTime(e.time)} ${pill(e.severity, e.severity === 'error' || e.severity === 'critical' ? 'bad' : e.severity === 'warning' ? 'warn' : 'muted')} ${e.message}</li>`)}</ul>`
            : html`<p class="muted">No recent event about ${id}.</p>`);
        } else {
          set($('#events'), errorBox(events.reason));
        }
      }};
  }

  // ---------- recovery points ----------
  function points() {
    let group = '';
    const acting = canAct();
    set(main, html`<h1>Recovery points</h1>
      <section class="card"><form class="inline" id="filter"><div><label for="group">Consistency group</label>
        <select id="group" name="group"><option value="">all groups</option></select></div></form>
        <p class="muted"><span class="legend-key crash"></span>crash-consistent <span class="legend-key app" style="margin-left:1em"></span>application-consistent</p>
        <div id="timeline" class="timeline" role="group" aria-label="Recovery point timeline"></div>
        ${acting ? html`<form class="inline" id="tag-form" novalidate aria-label="Tag a point now">
          <div><label for="f-tag-group">Group</label><select id="f-tag-group" name="group" aria-describedby="f-tag-group-err"></select><p class="field-error" id="f-tag-group-err"></p></div>
          ${field('name', 'Tag name', 'required maxlength="64" placeholder="before-upgrade"')}
          <div><label for="f-kind">Kind</label><select id="f-kind" name="kind" aria-describedby="f-kind-err"><option value="bookmark">bookmark (crash-consistent)</option>
            <option value="application">application-consistent (runs hooks)</option></select><p class="field-error" id="f-kind-err"></p></div>
          <div><button type="submit" class="act" id="tag-submit">Tag now</button><p class="form-error" role="alert"></p></div></form>` : raw('')}
      </section>
      <section class="card"><h2>Points</h2><div id="point-list">Loading…</div></section>
      <section class="card"><h2>Exports and test failovers</h2><div id="exports">Loading…</div></section>
      <section class="card"><h2>Image copies</h2><div id="copies">Loading…</div></section>`);
    $('#group').addEventListener('change', ev => { group = ev.target.value; tick(); });
    if (acting) {
      bindForm($('#tag-form'), async v => {
        if (!v.group) throw new ApiError(400, 'Bad Request', 'field \'group\': choose a consistency group', 'group');
        const r = await api('POST', '/agent/groups/' + encodeURIComponent(v.group) + '/tags', {name: v.name, kind: v.kind});
        banner('Tagged ' + r.name + ' (' + r.kind + ') at ' + fmtTime(r.time) + '.', true);
        $('#f-name').value = '';
        tick();
      });
    }
    let groupsKnown = '';
    return {refresh: async () => {
      const [pts, exps, copies, groups] = await Promise.allSettled([
        api('GET', '/recovery/points' + (group ? '?group=' + encodeURIComponent(group) : '')),
        api('GET', '/recovery/exports'), api('GET', '/recovery/copies'), api('GET', '/agent/groups')]);
      const gs = new Set(groups.status === 'fulfilled' ? groups.value.map(g => g.id) : []);
      if (pts.status === 'fulfilled') pts.value.forEach(p => gs.add(p.group));
      const list = [...gs].sort();
      if (list.join() !== groupsKnown) {
        groupsKnown = list.join();
        set($('#group'), html`<option value="">all groups</option>${list.map(g => html`<option${raw(g === group ? ' selected' : '')}>${g}</option>`)}`);
        const tg = $('#f-tag-group');
        if (tg) {
          const agentGroups = groups.status === 'fulfilled' ? groups.value.map(g => g.id) : [];
          const keep = tg.value;
          set(tg, agentGroups.length ? html`${agentGroups.map(g => html`<option${raw(g === keep ? ' selected' : '')}>${g}</option>`)}` : html`<option value="">no group on this agent</option>`);
        }
      }
      if (pts.status === 'rejected') { set($('#point-list'), errorBox(pts.reason)); set($('#timeline'), raw('')); }
      else renderPoints(pts.value);
      if (exps.status === 'rejected') set($('#exports'), errorBox(exps.reason));
      else set($('#exports'), exps.value.length ? html`<table class="responsive" id="export-table"><thead><tr><th>Name</th><th>Mode</th><th>Point</th><th>Disk</th><th>NBD URI</th><th>Created</th><th class="num">Scratch</th>${acting ? raw('<th>Actions</th>') : raw('')}</tr></thead><tbody>
        ${exps.value.map(e => html`<tr data-export="${e.name}">${td('Name', e.name)}${td('Mode', pill(e.mode, e.mode === 'test-failover' ? 'warn' : 'ok'))}
          ${td('Point', e.point)}${td('Disk', e.disk)}${td('NBD URI', html`<code>${e.uri}</code>`)}${td('Created', fmtTime(e.created))}
          ${td('Scratch', fmtBytes(e.scratchBytes), 'num')}
          ${acting ? td('Actions', html`<button type="button" class="act danger" data-discard="${e.name}">Discard</button>`) : raw('')}</tr>`)}</tbody></table>`
        : html`<p class="muted">No export.</p>`);
      if (copies.status === 'rejected') set($('#copies'), errorBox(copies.reason));
      else set($('#copies'), copies.value.length ? html`<table class="responsive"><thead><tr><th>Point</th><th>Disk</th><th>File</th><th>Progress</th><th>State</th></tr></thead><tbody>
        ${copies.value.map(c => html`<tr>${td('Point', c.point)}${td('Disk', c.disk)}${td('File', c.file)}
          ${td('Progress', html`<progress max="100" value="${c.percent.toFixed(1)}" aria-label="copy ${c.percent.toFixed(0)} percent"></progress> ${c.percent.toFixed(0)}%`)}
          ${td('State', html`${c.state} <span class="muted">${c.message || ''}</span>`)}</tr>`)}</tbody></table>`
        : html`<p class="muted">No image copy.</p>`);
    }};

    function renderPoints(all) {
      const sorted = all.slice().sort((a, b) => a.time < b.time ? 1 : a.time > b.time ? -1 : 0);
      const shown = sorted.slice(0, 100);
      const tl = $('#timeline');
      if (!sorted.length) { set(tl, raw('')); set($('#point-list'), html`<p class="muted">No recovery point yet.</p>`); return; }
      const t0 = Date.parse(sorted[sorted.length - 1].time); const t1 = Date.parse(sorted[0].time);
      const span = Math.max(1, t1 - t0);
      // Crash-consistent points are many: draw at most 300 of them, every application-consistent one.
      const step = Math.max(1, Math.ceil(sorted.filter(p => p.kind !== 'application-consistent').length / 300));
      let n = 0;
      const marks = sorted.filter(p => p.kind === 'application-consistent' || (n++ % step === 0));
      set(tl, html`${marks.map(p => html`<button type="button" class="mark ${p.kind === 'application-consistent' ? 'app' : 'crash'}"
          style="left:${(2 + 96 * (Date.parse(p.time) - t0) / span).toFixed(2)}%" data-point="${p.id}"
          title="${p.kind}${p.tag ? ' “' + p.tag + '”' : ''} at ${fmtTime(p.time)}" aria-label="${p.kind} point ${p.tag || ''} at ${fmtTime(p.time)}"></button>`)}
        <span class="axis" style="left:4px">${fmtTime(sorted[sorted.length - 1].time)}</span><span class="axis" style="right:4px">${fmtTime(sorted[0].time)}</span>`);
      set($('#point-list'), html`<p class="muted">${sorted.length} points${sorted.length > shown.length ? ', newest ' + shown.length + ' listed' : ''}.</p>
        <table class="responsive" id="point-table"><thead><tr><th>Time</th><th>Kind</th><th>Tag</th><th>Group</th><th>Id</th>${acting ? raw('<th>Actions</th>') : raw('')}</tr></thead><tbody>
        ${shown.map(p => html`<tr id="pt-${p.id}" data-point="${p.id}" data-kind="${p.kind}">${td('Time', fmtTime(p.time))}
          ${td('Kind', pill(p.kind === 'application-consistent' ? 'application' : 'crash', p.kind === 'application-consistent' ? 'ok' : 'muted'))}
          ${td('Tag', p.tag || '')}${td('Group', p.group)}${td('Id', html`<code>${p.id}</code>`)}
          ${acting ? td('Actions', html`<span class="actions"><button type="button" class="act secondary" data-export="${p.id}">Export</button>
            <button type="button" class="act" data-failover="${p.id}">Test failover</button></span>`) : raw('')}</tr>`)}</tbody></table>`);
    }
  }
  // Delegated clicks of the points page (its rows are redrawn on every poll).
  main.addEventListener('click', ev => {
    const b = ev.target.closest('button');
    if (!b) return;
    // The second click of a double click is ignored: rows are redrawn by polling, so it could land on
    // another row's button that took the first one's place.
    if (ev.detail > 1 && b.classList.contains('act')) return;
    if (b.dataset.failover || (b.dataset.export && b.closest('#point-table'))) {
      const writable = !!b.dataset.failover;
      const point = b.dataset.failover || b.dataset.export;
      act(b, async () => {
        const name = (writable ? 'tfo-' : 'exp-') + stamp();
        const made = await api('POST', '/recovery/exports', {name, point, writable});
        banner((writable ? 'Test failover ' : 'Export ') + name + ' started: ' + made.map(e => e.uri).join(', '), true);
        await tick();
      });
    } else if (b.dataset.discard) {
      act(b, async () => {
        await api('DELETE', '/recovery/exports/' + encodeURIComponent(b.dataset.discard));
        banner('Discarded ' + b.dataset.discard + '.', true);
        await tick();
      });
    } else if (b.dataset.point && b.classList.contains('mark')) {
      const row = document.getElementById('pt-' + b.dataset.point);
      if (row) { row.scrollIntoView({block: 'center'}); row.classList.add('ok'); setTimeout(() => row.classList.remove('ok'), 1500); }
    } else if (b.dataset.ack) {
      act(b, async () => { await api('POST', '/alerts/' + encodeURIComponent(b.dataset.ack) + '/acknowledge'); await tick(); });
    } else if (b.dataset.deletePolicy) {
      if (!confirm('Delete policy ' + b.dataset.deletePolicy + '?')) return;
      act(b, async () => { await api('DELETE', '/policies/' + encodeURIComponent(b.dataset.deletePolicy)); banner('Deleted policy ' + b.dataset.deletePolicy + '.', true); await tick(); });
    }
  });

  // ---------- machines ----------
  const MACHINE_KINDS = ['vmware', 'physical-linux', 'physical-windows'];
  function machineStatePill(s) {
    return pill(s, s === 'protected' ? 'ok' : s === 'unprotected' ? 'muted' : 'warn');
  }
  /** Starts a job (202) and shows it: the jobs page with that job open. */
  async function startJob(method, path, body) {
    const job = await api(method, path, body);
    location.hash = '#/jobs/' + job.id;
    return job;
  }
  function machines() {
    const acting = canAct();
    set(main, html`<h1>Machines</h1>
      ${acting ? html`<p><a class="button act" id="protect-start" href="#/protect">Protect a machine</a></p>` : raw('')}
      <section class="card"><div id="machine-list">Loading…</div></section>
      ${acting ? html`<section class="card"><h2>Change a machine's policy</h2><form class="inline" id="machine-policy-form" novalidate>
        <div><label for="mp-machine">Machine</label><select id="mp-machine" name="machine" aria-describedby="mp-machine-err"></select><p class="field-error" id="mp-machine-err"></p></div>
        <div><label for="mp-policy">Policy</label><select id="mp-policy" name="policyId" aria-describedby="mp-policy-err"></select><p class="field-error" id="mp-policy-err"></p></div>
        <div><button type="submit" class="act" id="machine-policy-submit">Change policy</button><p class="form-error" role="alert"></p></div>
      </form></section>` : raw('')}`);
    const list = $('#machine-list');
    list.addEventListener('click', ev => {
      const b = ev.target.closest('button.act');
      if (!b || ev.detail > 1) return;
      const id = b.dataset.machine;
      if (b.dataset.unprotect !== undefined) {
        if (!confirm('Stop replicating machine ' + id + '? Its replicas stay.')) return;
        act(b, () => startJob('POST', '/machines/' + encodeURIComponent(id) + '/unprotect'));
      } else if (b.dataset.resync !== undefined) {
        const disks = b.dataset.disk ? [b.dataset.disk] : undefined;
        act(b, () => startJob('POST', '/machines/' + encodeURIComponent(id) + '/resync', disks ? {disks} : {}));
      }
    });
    if (acting) {
      bindForm($('#machine-policy-form'), async v => {
        if (!v.machine) throw new ApiError(400, 'Bad Request', 'choose a machine', 'machine');
        await startJob('PUT', '/machines/' + encodeURIComponent(v.machine) + '/policy', {policyId: v.policyId});
      });
    }
    return {refresh: async () => {
      const [page, pols] = await Promise.all([api('GET', '/machines?limit=200'),
        acting ? api('GET', '/policies?limit=200') : Promise.resolve(null)]);
      set(list, page.items.length ? html`<p class="muted">${page.total} machine(s)${page.total > page.items.length ? ', first ' + page.items.length + ' listed' : ''}.</p>
        <table class="responsive" id="machine-table"><thead><tr><th>Machine</th><th>Kind</th><th>State</th><th>Agent</th><th>Process server</th>
        <th>Master target</th><th>Group</th><th>Policy</th><th>Disks</th><th>Since</th><th>Actions</th></tr></thead><tbody>
        ${page.items.map(m => html`<tr data-machine="${m.id}">${td('Machine', html`<strong>${m.id}</strong>${m.name && m.name !== m.id ? html`<br><span class="muted">${m.name}</span>` : raw('')}`)}
          ${td('Kind', m.kind)}${td('State', machineStatePill(m.state))}${td('Agent', m.agentId)}${td('Process server', m.processServerId)}
          ${td('Master target', m.masterTargetId)}${td('Group', m.group)}${td('Policy', m.policyId)}
          ${td('Disks', html`<ul class="plain">${m.disks.map(d => html`<li><code>${d.diskId}</code> ${d.source} <span class="muted">(${d.driver}${d.sizeBytes ? ', ' + fmtBytes(d.sizeBytes) : ''}${d.resyncRequests ? ', ' + d.resyncRequests + ' resync(s)' : ''})</span>
              ${acting && m.state === 'protected' ? html`<button type="button" class="act secondary small" data-resync data-machine="${m.id}" data-disk="${d.diskId}" aria-label="Resync disk ${d.diskId}">Resync</button>` : raw('')}</li>`)}</ul>`)}
          ${td('Since', fmtTime(m.createdAt))}
          ${td('Actions', html`<span class="actions"><a href="#/jobs?machine=${encodeURIComponent(m.id)}" data-jobs-of="${m.id}">Jobs</a>
            ${acting && m.state === 'protected' ? html`<button type="button" class="act secondary" data-resync data-machine="${m.id}">Resync all</button>` : raw('')}
            ${acting && m.state !== 'unprotected' ? html`<button type="button" class="act danger" data-unprotect data-machine="${m.id}">Unprotect</button>` : raw('')}</span>`)}</tr>`)}</tbody></table>`
        : html`<p class="muted">No machine is protected yet.${acting ? ' Use “Protect a machine”.' : ''}</p>`);
      if (acting) {
        keepOptions($('#mp-machine'), page.items.map(m => m.id), 'no machine');
        keepOptions($('#mp-policy'), pols.items.map(p => p.id), 'no policy');
      }
    }};
  }
  /** Replaces a select's options when they changed, keeping the chosen value. */
  function keepOptions(select, values, none) {
    if (!select) return;
    const key = values.join('\n');
    if (select.dataset.options === key) return;
    select.dataset.options = key;
    const keep = select.value;
    set(select, values.length ? html`${values.map(v => html`<option${raw(v === keep ? ' selected' : '')}>${v}</option>`)}`
      : html`<option value="">${none}</option>`);
  }

  // ---------- jobs ----------
  function jobStatePill(s) { return pill(s, s === 'succeeded' ? 'ok' : s === 'failed' ? 'bad' : 'warn'); }
  function progressBar(what, p) {
    const v = Math.max(0, Math.min(100, p || 0));
    return html`<progress max="100" value="${v}" aria-label="${what} ${v} percent"></progress> ${v}%`;
  }
  function stepsTable(job) {
    return job.steps.length ? html`<table class="steps-table"><thead><tr><th class="num">#</th><th>Step</th><th>State</th><th>Progress</th><th>Started</th><th>Ended</th><th>Error</th></tr></thead><tbody>
      ${job.steps.map(s => html`<tr data-step="${s.ordinal}">${td('#', s.ordinal, 'num')}${td('Step', s.name)}${td('State', jobStatePill(s.state))}
        ${td('Progress', progressBar('step ' + s.name, s.progress))}${td('Started', fmtTime(s.startedAt))}${td('Ended', fmtTime(s.endedAt))}
        ${td('Error', s.error ? html`<span class="bad">${s.error}</span>` : '')}</tr>`)}</tbody></table>`
      : html`<p class="muted">No step.</p>`;
  }
  function jobs(args) {
    const params = new URLSearchParams(location.hash.split('?')[1] || '');
    const focus = /^\d+$/.test(args[0] || '') ? args[0] : null;
    const open = new Set(focus ? [focus] : []);
    set(main, html`<h1>Jobs</h1>
      ${focus ? html`<section class="card" id="job-detail" aria-live="polite">Loading job ${focus}…</section>` : raw('')}
      <section class="card"><form class="inline" id="job-filter" role="search" aria-label="Filter jobs">
        <div><label for="jf-machine">Machine</label><input id="jf-machine" name="machine" value="${params.get('machine') || ''}" placeholder="all machines"></div>
        <div><label for="jf-state">State</label><select id="jf-state" name="state"><option value="">any</option>
          ${['running', 'succeeded', 'failed'].map(s => html`<option${raw(params.get('state') === s ? ' selected' : '')}>${s}</option>`)}</select></div>
        <div><button type="submit" class="secondary">Filter</button></div></form>
        <div id="job-list">Loading…</div></section>`);
    $('#job-filter').addEventListener('submit', ev => { ev.preventDefault(); tick(); });
    $('#jf-state').addEventListener('change', () => tick());
    const list = $('#job-list');
    list.addEventListener('click', ev => {
      const b = ev.target.closest('button[data-toggle-job]');
      if (!b) return;
      const id = b.dataset.toggleJob;
      const row = document.getElementById('job-steps-' + id);
      const show = !open.has(id);
      if (show) open.add(id); else open.delete(id);
      b.setAttribute('aria-expanded', String(show));
      if (row) row.hidden = !show;
    });
    return {refresh: async () => {
      const machine = $('#jf-machine').value.trim();
      const state = $('#jf-state').value;
      const q = '?limit=50' + (machine ? '&machine=' + encodeURIComponent(machine) : '') + (state ? '&state=' + state : '');
      const [page, one] = await Promise.allSettled([api('GET', '/jobs' + q), focus ? api('GET', '/jobs/' + focus) : Promise.resolve(null)]);
      if (focus) {
        const card = $('#job-detail');
        if (one.status === 'rejected') set(card, errorBox(one.reason));
        else {
          const j = one.value;
          set(card, html`<h2>Job ${j.id}: ${j.kind} of machine <a href="#/machines">${j.machineId}</a></h2>
            <p>${jobStatePill(j.state)} ${progressBar('job ' + j.id, j.progress)}
              <span class="muted">started by ${j.createdBy} at ${fmtTime(j.createdAt)}, updated ${fmtTime(j.updatedAt)}</span></p>
            ${j.error ? html`<p class="form-error job-error" role="alert">The job failed: ${j.error}</p>` : raw('')}
            ${stepsTable(j)}`);
          card.dataset.state = j.state;
        }
      }
      if (page.status === 'rejected') { set(list, errorBox(page.reason)); return; }
      const p = page.value;
      set(list, p.items.length ? html`<p class="muted">${p.total} job(s)${p.total > p.items.length ? ', newest ' + p.items.length + ' listed' : ''}.</p>
        <table class="responsive" id="job-table"><thead><tr><th class="num">Id</th><th>Kind</th><th>Machine</th><th>State</th><th>Progress</th>
        <th>Started by</th><th>Created</th><th>Updated</th><th>Steps</th></tr></thead><tbody>
        ${p.items.map(j => { const id = String(j.id); const shown = open.has(id); return html`<tr data-job="${id}" data-state="${j.state}"${raw(id === focus ? ' class="current"' : '')}>
          ${td('Id', html`<a href="#/jobs/${id}">${id}</a>`, 'num')}${td('Kind', j.kind)}${td('Machine', j.machineId)}
          ${td('State', html`${jobStatePill(j.state)}${j.error ? html`<div class="bad job-error">${j.error}</div>` : raw('')}`)}
          ${td('Progress', progressBar('job ' + id, j.progress))}${td('Started by', j.createdBy)}${td('Created', fmtTime(j.createdAt))}
          ${td('Updated', fmtTime(j.updatedAt))}
          ${td('Steps', html`<button type="button" class="secondary small" data-toggle-job="${id}" aria-expanded="${String(shown)}" aria-controls="job-steps-${id}">${j.steps.length} step(s)</button>`)}</tr>
          <tr class="steps-row" id="job-steps-${id}"${raw(shown ? '' : ' hidden')}><td colspan="9">${stepsTable(j)}</td></tr>`; })}</tbody></table>`
        : html`<p class="muted">No job${machine || state ? ' matches the filter' : ' yet'}.</p>`);
    }};
  }

  // ---------- protect wizard ----------
  const ROLE_INPUTS = [['agentId', 'agent', 'Agent'], ['processServerId', 'process-server', 'Process server'],
    ['masterTargetId', 'master-target', 'Master target']];
  function protect(args) {
    if (!canAct()) {
      set(main, html`<h1>Protect a machine</h1><p class="card">Protecting a machine needs the operator or admin role; you can follow
        <a href="#/machines">machines</a> and <a href="#/jobs">jobs</a>.</p>`);
      return {refresh: async () => {}};
    }
    const STEPS = ['Machine', 'Components', 'Disks', 'Policy', 'Review'];
    let step = 0;
    let started = false;
    set(main, html`<h1>Protect a machine</h1>
      <ol class="wizard-steps" id="wizard-steps">${STEPS.map((s, i) => html`<li data-step="${i}">${i + 1}. ${s}</li>`)}</ol>
      <form id="protect-form" class="card wizard" novalidate aria-labelledby="wizard-legend">
        <fieldset data-step="0"><legend>Step 1: the machine</legend><div class="form-grid">
          ${field('machineId', 'Machine id', 'required maxlength="64" placeholder="web-01" value="' + esc(args[0] || '') + '"')}
          ${field('name', 'Display name (optional)', 'maxlength="200" placeholder="Web server 1"')}
          <div><label for="f-kind">Kind</label><select id="f-kind" name="kind" aria-describedby="f-kind-err"><option value="">not set</option>
            ${MACHINE_KINDS.map(k => html`<option>${k}</option>`)}</select><p class="field-error" id="f-kind-err"></p></div></div></fieldset>
        <fieldset data-step="1" hidden><legend>Step 2: agent, process server and master target</legend>
          <p class="muted">Pick a registered component (type to filter) or type its id.</p><div class="form-grid">
          ${ROLE_INPUTS.map(([name, role, label]) => html`<div><label for="f-${name}">${label}</label>
            <input id="f-${name}" name="${name}" list="dl-${role}" autocomplete="off" aria-describedby="f-${name}-err f-${name}-hint">
            <datalist id="dl-${role}"></datalist><p class="muted hint" id="f-${name}-hint">Loading…</p><p class="field-error" id="f-${name}-err" aria-live="polite"></p></div>`)}
          </div></fieldset>
        <fieldset data-step="2" hidden><legend>Step 3: disks</legend>
          <table class="responsive disk-rows"><thead><tr><th>Disk id</th><th>Source path (as the agent sees it)</th><th>Capture driver</th><th>Listen (nbd, host:port)</th><th></th></tr></thead>
            <tbody id="disk-rows"></tbody></table>
          <datalist id="dl-driver"><option>nbd</option><option>scan</option></datalist>
          <p><button type="button" class="secondary" id="add-disk" data-field="disks" aria-describedby="disks-err">Add a disk</button></p>
          <p class="field-error" id="disks-err" aria-live="polite"></p></fieldset>
        <fieldset data-step="3" hidden><legend>Step 4: policy</legend><div class="form-grid">
          <div><label for="f-policyId">Replication policy</label><select id="f-policyId" name="policyId" aria-describedby="f-policyId-err"></select>
            <p class="field-error" id="f-policyId-err" aria-live="polite"></p></div>
          ${field('group', 'Consistency group (optional; the machine id by default)', 'maxlength="64"')}</div></fieldset>
        <fieldset data-step="4" hidden><legend>Step 5: review</legend><div id="review"></div></fieldset>
        <p class="form-error" role="alert"></p>
        <div class="actions"><button type="button" class="secondary" id="wizard-back">Back</button>
          <button type="button" id="wizard-next">Next</button>
          <button type="submit" class="act" id="protect-submit" hidden>Start protection</button></div>
      </form>`);
    const form = $('#protect-form');
    const rows = $('#disk-rows');
    function diskRow(i) {
      const id = k => 'd' + i + '-' + k;
      const input = (k, label, attrs) => html`<td data-label="${label}"><input id="${id(k)}" name="disks[${i}].${k}" aria-label="Disk ${i + 1} ${label}"
        aria-describedby="${id(k)}-err" ${raw(attrs)}><p class="field-error" id="${id(k)}-err" aria-live="polite"></p></td>`;
      return html`<tr data-disk-row="${i}">${input('diskId', 'disk id', 'maxlength="128" placeholder="disk-' + i + '"')}
        ${input('source', 'source path', 'maxlength="1024" placeholder="/dev/sdb"')}
        ${input('driver', 'capture driver', 'list="dl-driver" value="nbd" maxlength="32"')}
        <td data-label="listen"><input id="${id('listen')}" name="disks[${i}].options.listen" aria-label="Disk ${i + 1} NBD listen address"
          aria-describedby="${id('listen')}-err" placeholder="127.0.0.1:0"><p class="field-error" id="${id('listen')}-err" aria-live="polite"></p></td>
        <td><button type="button" class="secondary small" data-remove-disk aria-label="Remove disk ${i + 1}">Remove</button></td></tr>`;
    }
    function addDisk() {
      rows.insertAdjacentHTML('beforeend', diskRow(rows.children.length).__raw);
      rows.lastElementChild.querySelector('input').focus();
    }
    /** After a removal: rows renumbered so that names stay disks[0..n-1] (the API's error paths). */
    function renumber() {
      [...rows.children].forEach((tr, i) => {
        const values = [...tr.querySelectorAll('input')].map(x => x.value);
        tr.outerHTML = diskRow(i).__raw;
        [...rows.children[i].querySelectorAll('input')].forEach((x, k) => { x.value = values[k]; });
      });
    }
    rows.insertAdjacentHTML('beforeend', diskRow(0).__raw);
    $('#add-disk').addEventListener('click', addDisk);
    rows.addEventListener('click', ev => {
      const b = ev.target.closest('button[data-remove-disk]');
      if (!b) return;
      b.closest('tr').remove();
      renumber();
    });
    function values() {
      const v = {};
      new FormData(form).forEach((x, k) => { v[k] = String(x).trim(); });
      const body = {agentId: v.agentId, processServerId: v.processServerId, masterTargetId: v.masterTargetId, policyId: v.policyId};
      if (v.name) body.name = v.name;
      if (v.kind) body.kind = v.kind;
      if (v.group) body.group = v.group;
      body.disks = [...rows.children].map((tr, i) => {
        const d = {diskId: v['disks[' + i + '].diskId'], source: v['disks[' + i + '].source']};
        if (v['disks[' + i + '].driver']) d.driver = v['disks[' + i + '].driver'];
        if (v['disks[' + i + '].options.listen']) d.options = {listen: v['disks[' + i + '].options.listen']};
        return d;
      });
      return {machineId: v.machineId, body};
    }
    function go(n) {
      step = Math.max(0, Math.min(STEPS.length - 1, n));
      form.querySelectorAll('fieldset[data-step]').forEach(f => { f.hidden = Number(f.dataset.step) !== step; });
      document.querySelectorAll('#wizard-steps li').forEach(li => {
        if (Number(li.dataset.step) === step) li.setAttribute('aria-current', 'step'); else li.removeAttribute('aria-current');
      });
      $('#wizard-back').hidden = step === 0;
      $('#wizard-next').hidden = step === STEPS.length - 1;
      $('#protect-submit').hidden = step !== STEPS.length - 1;
      if (step === STEPS.length - 1) {
        const {machineId, body} = values();
        set($('#review'), html`<table class="review" id="review-table"><tbody>
          <tr><th>Machine</th><td>${machineId}${body.name ? ' (' + body.name + ')' : ''}${body.kind ? ', ' + body.kind : ''}</td></tr>
          <tr><th>Agent</th><td>${body.agentId}</td></tr><tr><th>Process server</th><td>${body.processServerId}</td></tr>
          <tr><th>Master target</th><td>${body.masterTargetId}</td></tr><tr><th>Policy</th><td>${body.policyId}</td></tr>
          <tr><th>Consistency group</th><td>${body.group || machineId}</td></tr>
          <tr><th>Disks</th><td><ul class="plain">${body.disks.map(d => html`<li><code>${d.diskId}</code> ${d.source || '(no source)'} via ${d.driver || 'nbd'}${d.options ? ', listen ' + d.options.listen : ''}</li>`)}</ul></td></tr>
        </tbody></table>`);
      }
      const first = form.querySelector('fieldset[data-step="' + step + '"] input, fieldset[data-step="' + step + '"] select, #protect-submit:not([hidden])');
      if (first) first.focus();
    }
    $('#wizard-back').addEventListener('click', () => go(step - 1));
    $('#wizard-next').addEventListener('click', () => go(step + 1));
    form.addEventListener('submit', async ev => {
      ev.preventDefault();
      if (step < STEPS.length - 1) { go(step + 1); return; } // Enter in a field moves on
      const submit = $('#protect-submit');
      // One job per click: disabled while the request runs, and for good once a job started.
      if (submit.disabled || started) return;
      submit.disabled = true;
      submit.setAttribute('aria-busy', 'true');
      clearErrors(form);
      try {
        const {machineId, body} = values();
        if (!machineId) throw new ApiError(400, 'Bad Request', 'the machine id is required', 'machineId');
        const job = await api('POST', '/machines/' + encodeURIComponent(machineId) + '/protect', body);
        started = true;
        location.hash = '#/jobs/' + job.id;
      } catch (e) {
        if (e.expired) return;
        const input = placeError(form, e);
        if (input) {
          const fs = input.closest('fieldset[data-step]');
          if (fs) go(Number(fs.dataset.step));
          input.focus();
        }
      } finally {
        if (!started) { submit.disabled = false; submit.removeAttribute('aria-busy'); }
      }
    });
    go(0);
    return {refresh: async () => {
      const [comps, pols] = await Promise.allSettled([api('GET', '/components?limit=200'), api('GET', '/policies?limit=200')]);
      for (const [name, role, label] of ROLE_INPUTS) {
        const hint = $('#f-' + name + '-hint');
        if (comps.status === 'rejected') { hint.textContent = 'Components unavailable: ' + comps.reason.message; continue; }
        const mine = comps.value.items.filter(c => c.role === role && c.state === 'registered');
        const key = mine.map(c => c.id + '|' + c.lastHeartbeat).join();
        if (hint.dataset.key === key) continue;
        hint.dataset.key = key;
        set($('#dl-' + role), html`${mine.map(c => html`<option value="${c.id}">${c.id}${c.site ? ' (' + c.site + ')' : ''}</option>`)}`);
        hint.textContent = mine.length ? mine.length + ' registered: ' + mine.map(c => c.id + ' (last heartbeat '
          + (c.lastHeartbeat ? fmtTime(c.lastHeartbeat) : 'never') + ')').join(', ')
          : 'No ' + label.toLowerCase() + ' is registered with this configuration server.';
        const input = $('#f-' + name);
        if (!input.value && mine.length === 1) input.value = mine[0].id;
      }
      if (pols.status === 'fulfilled') keepOptions($('#f-policyId'), pols.value.items.map(p => p.id), 'no policy: create one first');
    }};
  }

  // ---------- alerts ----------
  function alerts() {
    let activeOnly = true;
    set(main, html`<h1>Alerts</h1><section class="card">
      <label><input type="checkbox" id="active-only" checked style="min-width:0"> active alerts only</label>
      <div id="alert-list">Loading…</div></section>`);
    $('#active-only').addEventListener('change', ev => { activeOnly = ev.target.checked; tick(); });
    return {refresh: async () => {
      const page = await api('GET', '/alerts?limit=100&active=' + activeOnly);
      set($('#alert-list'), page.items.length ? html`<p class="muted">${page.total} alert(s)${page.total > page.items.length ? ', newest ' + page.items.length + ' listed' : ''}.</p>
        <table class="responsive" id="alert-table"><thead><tr><th>Raised</th><th>Severity</th><th>Kind</th><th>Subject</th><th>Message</th><th>State</th>${canAct() ? raw('<th>Actions</th>') : raw('')}</tr></thead><tbody>
        ${page.items.map(a => html`<tr data-alert="${a.id}">${td('Raised', fmtTime(a.raisedAt))}
          ${td('Severity', pill(a.severity, /crit|error/.test(a.severity) ? 'bad' : /warn/.test(a.severity) ? 'warn' : 'muted'))}
          ${td('Kind', a.kind)}${td('Subject', a.subject)}${td('Message', a.message)}
          ${td('State', html`${a.active ? 'active' : 'cleared ' + fmtTime(a.clearedAt)}${a.acknowledgedBy ? html`<br><span class="muted">acknowledged by ${a.acknowledgedBy}</span>` : raw('')}`)}
          ${canAct() ? td('Actions', a.acknowledgedBy ? raw('') : html`<button type="button" class="act" data-ack="${a.id}">Acknowledge</button>`) : raw('')}</tr>`)}</tbody></table>`
        : html`<p class="muted">No ${activeOnly ? 'active ' : ''}alert.</p>`);
    }};
  }

  // ---------- policies ----------
  function policies() {
    const admin = isAdmin();
    set(main, html`<h1>Replication policies</h1>
      <section class="card"><div id="policy-list">Loading…</div></section>
      ${admin ? html`<section class="card"><h2>New policy</h2><form class="inline" id="policy-form" novalidate>
        ${field('id', 'Name', 'required maxlength="64" placeholder="gold"')}
        ${field('rpoThresholdSeconds', 'RPO threshold (s)', 'type="number" min="1" required value="300"')}
        ${field('retentionWindowSeconds', 'Retention window (s)', 'type="number" min="1" required value="86400"')}
        ${field('checkpointIntervalSeconds', 'Checkpoint every (s)', 'type="number" min="1" placeholder="default"')}
        <div><label for="f-compressor">Compressor</label><select id="f-compressor" name="compressor" aria-describedby="f-compressor-err">
          <option value="">default</option><option>lz4</option><option>zstd</option><option>none</option></select><p class="field-error" id="f-compressor-err"></p></div>
        <div><button type="submit" class="act" id="policy-submit">Create</button><p class="form-error" role="alert"></p></div>
      </form></section>` : raw('')}`);
    if (admin) {
      bindForm($('#policy-form'), async v => {
        const body = {id: v.id};
        for (const k of ['rpoThresholdSeconds', 'retentionWindowSeconds', 'checkpointIntervalSeconds']) {
          if (v[k] !== '') body[k] = /^-?\d+$/.test(v[k]) ? Number(v[k]) : v[k];
        }
        if (v.compressor) body.compressor = v.compressor;
        const p = await api('POST', '/policies', body);
        banner('Created policy ' + p.id + '.', true);
        $('#f-id').value = '';
        await tick();
      });
    }
    return {refresh: async () => {
      const page = await api('GET', '/policies?limit=200');
      set($('#policy-list'), page.items.length ? html`<table class="responsive" id="policy-table"><thead><tr><th>Name</th><th class="num">RPO threshold</th><th class="num">Checkpoint</th>
        <th class="num">Retention</th><th class="num">Retention space</th><th>App consistency</th><th>Compressor</th><th>Bandwidth</th>${admin ? raw('<th>Actions</th>') : raw('')}</tr></thead><tbody>
        ${page.items.map(p => html`<tr data-policy="${p.id}">${td('Name', p.id)}${td('RPO threshold', fmtDuration(p.rpoThresholdSeconds * 1000), 'num')}
          ${td('Checkpoint', fmtDuration(p.checkpointIntervalSeconds * 1000), 'num')}${td('Retention', fmtDuration(p.retentionWindowSeconds * 1000), 'num')}
          ${td('Retention space', fmtBytes(p.retentionSpaceBytes), 'num')}${td('App consistency', p.appConsistencySchedule)}${td('Compressor', p.compressor)}
          ${td('Bandwidth', p.bandwidthSchedule)}
          ${admin ? td('Actions', html`<button type="button" class="act danger" data-delete-policy="${p.id}">Delete</button>`) : raw('')}</tr>`)}</tbody></table>`
        : html`<p class="muted">No policy.</p>`);
    }};
  }

  // ---------- plugins ----------
  function plugins() {
    const admin = isAdmin();
    set(main, html`<h1>Plugins</h1><div id="plugin-list">Loading…</div>
      <section class="card" aria-labelledby="h-features"><h2 id="h-features">Plugin features</h2>
        <p class="muted" id="feature-rule"></p><div id="feature-list">Loading…</div></section>`);
    const features = $('#feature-list');
    features.addEventListener('click', ev => {
      const b = ev.target.closest('button.act');
      if (!b || ev.detail > 1) return;
      if (b.dataset.install) {
        act(b, async () => {
          const f = await api('POST', '/plugins/features/' + encodeURIComponent(b.dataset.install));
          banner('Installed ' + f.name + '.', true);
          await tick();
        });
      } else if (b.dataset.uninstall) {
        if (!confirm('Uninstall plugin feature ' + b.dataset.uninstall + '? Its plugin stops at once; protected disks '
          + 'that use it stop replicating.')) return;
        act(b, async () => {
          const f = await api('DELETE', '/plugins/features/' + encodeURIComponent(b.dataset.uninstall));
          banner('Uninstalled ' + f.name + '.', true);
          await tick();
        });
      }
    });
    return {refresh: async () => {
      const [p, fs] = await Promise.allSettled([api('GET', '/plugins'), api('GET', '/plugins/features')]);
      if (p.status === 'rejected') set($('#plugin-list'), errorBox(p.reason));
      else set($('#plugin-list'), html`${p.value.extensionPoints.map(x => html`<section class="card"><h2>${x.id} <span class="muted">(${x.service})</span></h2>
        ${x.plugins.length ? html`<table class="responsive"><thead><tr><th>Name</th><th>Bundle</th><th>Version</th><th>State</th></tr></thead><tbody>
          ${x.plugins.map(q => html`<tr>${td('Name', q.name)}${td('Bundle', q.bundle)}${td('Version', q.version)}${td('State', pill(q.state, q.state === 'ACTIVE' ? 'ok' : 'warn'))}</tr>`)}</tbody></table>`
          : html`<p class="muted">No ${x.id} plugin is installed.</p>`}</section>`)}`);
      if (fs.status === 'rejected') { set(features, errorBox(fs.reason)); return; }
      $('#feature-rule').textContent = 'Installable: ' + fs.value.rule + '.';
      set(features, fs.value.items.length ? html`<table class="responsive" id="feature-table"><thead><tr><th>Feature</th><th>Extension point</th><th>Description</th>
        <th>Version</th><th>State</th>${admin ? raw('<th>Actions</th>') : raw('')}</tr></thead><tbody>
        ${fs.value.items.map(f => html`<tr data-feature="${f.name}" data-installed="${String(f.installed)}">${td('Feature', html`<code>${f.name}</code>`)}
          ${td('Extension point', f.extensionPoint)}${td('Description', f.description)}${td('Version', f.version)}
          ${td('State', html`${f.installed ? pill('installed', 'ok') : pill('not installed', 'muted')}
            ${f.requiredBy.length ? html`<br><span class="muted">included by ${f.requiredBy.join('; ')}</span>` : f.installedByName ? html`<br><span class="muted">installed by an admin</span>` : raw('')}`)}
          ${admin ? td('Actions', !f.installed ? html`<button type="button" class="act" data-install="${f.name}">Install</button>`
            : f.installedByName && !f.requiredBy.length ? html`<button type="button" class="act danger" data-uninstall="${f.name}">Uninstall</button>`
            : html`<span class="muted">${f.requiredBy.length ? 'required by the role' : ''}</span>`) : raw('')}</tr>`)}</tbody></table>`
        : html`<p class="muted">No plugin feature is known to Karaf.</p>`);
    }};
  }

  window.addEventListener('hashchange', route);
  document.addEventListener('visibilitychange', () => { if (!document.hidden) tick(); });
  route();
})();
