// Live fleet dashboard: plain ES module, no external scripts, tiles or fonts (works offline).
// It uses the public API like any client: HTTP for queries/mutations, graphql-ws
// (graphql-transport-ws protocol, PROTOCOL.md of enisdenjo/graphql-ws) for subscriptions.
const GRAPHQL = '/graphql';
const MAX_POINTS_PER_SESSION = 500;
const COLORS = ['#2f6fed', '#e8590c', '#2b8a3e', '#c2255c', '#7048e8', '#0c8599', '#e67700', '#5c940d'];

const $ = (sel) => document.querySelector(sel);
const state = { token: null, sessions: new Map(), selected: null, socket: null };

function setStatus(text, s) {
  const el = $('#status');
  el.textContent = text;
  el.dataset.state = s;
}

async function gql(query, variables = {}) {
  const res = await fetch(GRAPHQL, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(state.token ? { authorization: `Bearer ${state.token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = await res.json();
  if (body.errors && body.errors.length) throw new Error(body.errors.map((e) => e.message).join('; '));
  return body.data;
}

// ── sessions and points ──────────────────────────────────────────────────────
function sessionEntry(node) {
  let s = state.sessions.get(node.id);
  if (!s) {
    s = { id: node.id, color: COLORS[state.sessions.size % COLORS.length], points: [], label: '', pointCount: 0 };
    state.sessions.set(node.id, s);
  }
  s.label = `${node.user?.email ?? 'unknown user'}${node.deviceId ? ` · ${node.deviceId}` : ''}`;
  if (typeof node.pointCount === 'number') s.pointCount = Math.max(s.pointCount, node.pointCount);
  return s;
}

function addPoint(sessionId, point) {
  const s = state.sessions.get(sessionId);
  if (!s) return;
  s.points.push({ lat: point.latitude, lon: point.longitude, at: point.recordedAt });
  if (s.points.length > MAX_POINTS_PER_SESSION) s.points.shift();
}

function renderSessions() {
  const list = $('#sessions');
  list.replaceChildren();
  for (const s of state.sessions.values()) {
    const li = document.createElement('li');
    li.dataset.sessionId = s.id;
    li.style.setProperty('--c', s.color);
    li.setAttribute('aria-selected', String(state.selected === s.id));
    const last = s.points[s.points.length - 1];
    li.textContent = s.label;
    const small = document.createElement('small');
    small.textContent = `${s.pointCount} points${last ? ` · ${last.lat.toFixed(5)}, ${last.lon.toFixed(5)}` : ''}`;
    li.append(small);
    li.addEventListener('click', () => {
      state.selected = state.selected === s.id ? null : s.id;
      render();
    });
    list.append(li);
  }
  $('#session-count').textContent = String(state.sessions.size);
}

function renderPlot() {
  const svg = $('#plot');
  const W = 800,
    H = 600,
    PAD = 30;
  const focus = state.selected ? [state.sessions.get(state.selected)].filter(Boolean) : [...state.sessions.values()];
  const pts = focus.flatMap((s) => s.points);
  svg.replaceChildren();
  const ns = 'http://www.w3.org/2000/svg';
  for (let i = 1; i < 10; i++) {
    const v = document.createElementNS(ns, 'line');
    v.setAttribute('class', 'grid');
    v.setAttribute('x1', String((W / 10) * i));
    v.setAttribute('x2', String((W / 10) * i));
    v.setAttribute('y1', '0');
    v.setAttribute('y2', String(H));
    svg.append(v);
    const h = document.createElementNS(ns, 'line');
    h.setAttribute('class', 'grid');
    h.setAttribute('x1', '0');
    h.setAttribute('x2', String(W));
    h.setAttribute('y1', String((H / 10) * i));
    h.setAttribute('y2', String((H / 10) * i));
    svg.append(h);
  }
  if (pts.length === 0) {
    $('#plot-caption').textContent = 'Waiting for points…';
    return;
  }
  let minLat = Math.min(...pts.map((p) => p.lat)),
    maxLat = Math.max(...pts.map((p) => p.lat));
  let minLon = Math.min(...pts.map((p) => p.lon)),
    maxLon = Math.max(...pts.map((p) => p.lon));
  const span = Math.max(maxLat - minLat, maxLon - minLon, 0.001);
  const cLat = (minLat + maxLat) / 2,
    cLon = (minLon + maxLon) / 2;
  const scale = (Math.min(W, H) - 2 * PAD) / span;
  const x = (lon) => W / 2 + (lon - cLon) * scale;
  const y = (lat) => H / 2 - (lat - cLat) * scale;
  for (const s of state.sessions.values()) {
    const dim = state.selected && state.selected !== s.id;
    if (s.points.length > 1) {
      const path = document.createElementNS(ns, 'polyline');
      path.setAttribute('class', `track${dim ? ' dim' : ''}`);
      path.setAttribute('stroke', s.color);
      path.setAttribute('points', s.points.map((p) => `${x(p.lon).toFixed(1)},${y(p.lat).toFixed(1)}`).join(' '));
      svg.append(path);
    }
    const last = s.points[s.points.length - 1];
    if (last) {
      const dot = document.createElementNS(ns, 'circle');
      dot.setAttribute('cx', x(last.lon).toFixed(1));
      dot.setAttribute('cy', y(last.lat).toFixed(1));
      dot.setAttribute('r', '7');
      dot.setAttribute('fill', s.color);
      dot.setAttribute('data-point', `${last.lat},${last.lon}`);
      dot.setAttribute('data-session-id', s.id);
      if (dim) dot.setAttribute('class', 'dim');
      svg.append(dot);
    }
  }
  $('#plot-caption').textContent = `${pts.length} points · centre ${cLat.toFixed(4)}, ${cLon.toFixed(4)}`;
}

function render() {
  renderSessions();
  renderPlot();
}

function logEvent(text) {
  const li = document.createElement('li');
  li.textContent = `${new Date().toLocaleTimeString()} ${text}`;
  $('#events').prepend(li);
  while ($('#events').children.length > 50) $('#events').lastChild.remove();
}

// ── graphql-ws (graphql-transport-ws) ───────────────────────────────────────
function connect() {
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${GRAPHQL}`;
  const ws = new WebSocket(url, 'graphql-transport-ws');
  state.socket = ws;
  const handlers = new Map();
  ws.onopen = () =>
    ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${state.token}` } }));
  ws.onmessage = (msg) => {
    const m = JSON.parse(msg.data);
    if (m.type === 'ping') return ws.send(JSON.stringify({ type: 'pong' }));
    if (m.type === 'connection_ack') {
      setStatus('live', 'live');
      subscribe(
        '1',
        `subscription { locationUpdated { session { id pointCount deviceId user { email } } point { latitude longitude recordedAt } } }`,
        (data) => {
          const u = data.locationUpdated;
          const s = sessionEntry(u.session);
          s.pointCount = u.session.pointCount;
          addPoint(u.session.id, u.point);
          render();
        },
      );
      subscribe(
        '2',
        `subscription { sessionEvents { type at session { id deviceId pointCount user { email } } } }`,
        (data) => {
          const e = data.sessionEvents;
          if (e.type === 'STARTED') sessionEntry(e.session);
          else state.sessions.delete(e.session.id);
          logEvent(`${e.type === 'STARTED' ? 'started' : 'ended'}: ${e.session.user?.email ?? e.session.id}`);
          render();
        },
      );
      return;
    }
    if (m.type === 'next' && m.payload.data) handlers.get(m.id)?.(m.payload.data);
    else if (m.type === 'next' && m.payload.errors?.some((e) => e.extensions?.code === 'LIVE_EVENTS_MISSED')) {
      // A gap marker: live events were missed; re-read the sessions to resync.
      logEvent('live events missed: resyncing');
      void loadSessions().catch(() => undefined);
    }
    if (m.type === 'error') logEvent(`subscription error: ${m.payload.map((e) => e.message).join('; ')}`);
  };
  ws.onclose = (ev) => {
    setStatus(`disconnected (${ev.code}${ev.reason ? `: ${ev.reason}` : ''})`, 'error');
    if (state.token && ev.code !== 4401 && ev.code !== 4403) setTimeout(() => state.token && connect(), 2000);
  };
  function subscribe(id, query, onData) {
    handlers.set(id, onData);
    ws.send(JSON.stringify({ id, type: 'subscribe', payload: { query } }));
  }
}

async function loadSessions() {
  const data = await gql(`query { locationSessions(status: ACTIVE, first: 50) { edges { node {
    id deviceId pointCount user { email } lastPoint { latitude longitude recordedAt } } } } }`);
  for (const { node } of data.locationSessions.edges) {
    const s = sessionEntry(node);
    s.pointCount = node.pointCount;
    if (node.lastPoint && s.points.length === 0) addPoint(node.id, node.lastPoint);
  }
  render();
}

$('#login-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  $('#login-error').textContent = '';
  try {
    const data = await gql(
      `mutation($email: String!, $password: String!) { login(email: $email, password: $password) { accessToken user { email role } } }`,
      {
        email: $('#email').value,
        password: $('#password').value,
      },
    );
    state.token = data.login.accessToken;
    setStatus(`${data.login.user.email} (${data.login.user.role})`, 'connecting');
    $('#login').hidden = true;
    $('#app').hidden = false;
    $('#logout').hidden = false;
    await loadSessions();
    connect();
  } catch (err) {
    $('#login-error').textContent = err.message;
  }
});

$('#logout').addEventListener('click', async () => {
  try {
    await gql('mutation { logout }');
  } catch {
    /* token may already be invalid */
  }
  state.token = null;
  state.socket?.close(1000, 'signed out');
  state.sessions.clear();
  $('#login').hidden = false;
  $('#app').hidden = true;
  $('#logout').hidden = true;
  setStatus('signed out', 'signed-out');
});
