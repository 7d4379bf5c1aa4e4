// Fleet dashboard: plain ES module. MapLibre GL JS and the offline basemap are served by the router
// (no CDN, tiles only from MAP_STYLE_URL when one is configured). It uses the public API like any
// client: HTTP for queries/mutations, graphql-ws (graphql-transport-ws protocol) for live updates.
import * as maplibregl from '/dashboard/vendor/maplibre-gl.mjs';

const GRAPHQL = '/graphql';
const TRAIL_POINTS = 60;
const HISTORY_PAGES = 30; // × 100 points
const COLORS = ['#1f5fd6', '#e8590c', '#2b8a3e', '#c2255c', '#7048e8', '#0c8599', '#e67700', '#5c940d'];

const $ = (sel) => document.querySelector(sel);
const state = {
  token: null,
  refreshToken: null,
  user: null,
  sessions: new Map(),
  recent: [],
  socket: null,
  attempt: 0,
  reconnects: 0,
  slowCloses: 0,
  history: null,
  map: null,
  mapReady: false,
  fitted: false,
  fences: [],
};

// ── errors in words ──────────────────────────────────────────────────────────
const WORDS = {
  UNAUTHENTICATED: 'You are not signed in (wrong email or password, or the sign-in expired).',
  FORBIDDEN: 'This account may not do that.',
  NOT_FOUND: 'It does not exist, or it is not yours to see.',
  BAD_USER_INPUT: 'The request was not valid.',
  RATE_LIMITED: 'Too many attempts: wait a moment, then try again.',
  SERVICE_UNAVAILABLE: 'The platform is busy or still starting: try again shortly.',
};
class ApiError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}
const inWords = (err) =>
  err instanceof ApiError
    ? `${err.message}${WORDS[err.code] && !err.message.includes(WORDS[err.code]) ? ` ${WORDS[err.code]}` : ''}`
    : `Cannot reach the platform at ${location.origin} (${err.message}). Is it still running?`;

function showError(text) {
  const el = $('#error');
  el.textContent = text;
  el.hidden = !text;
}

async function gql(query, variables = {}) {
  const res = await fetch(GRAPHQL, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(state.token ? { authorization: `Bearer ${state.token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  let body;
  try {
    body = await res.json();
  } catch {
    throw new ApiError('SERVICE_UNAVAILABLE', `The platform answered HTTP ${res.status}.`);
  }
  const e = body.errors?.[0];
  if (e) throw new ApiError(e.extensions?.code, e.message);
  return body.data;
}

// ── connection state ─────────────────────────────────────────────────────────
function setConn(s, label, detail = '') {
  const el = $('#status');
  el.textContent = label;
  el.dataset.state = s;
  $('#conn-detail').textContent = detail;
  $('#conn-stats').textContent =
    state.reconnects || state.slowCloses
      ? `reconnects: ${state.reconnects} · slow-consumer closes: ${state.slowCloses}`
      : '';
}

const CLOSE_WORDS = {
  1001: 'The router is stopping or restarting.',
  1006: 'The connection to the router was lost.',
  1013: 'The router could not check the sign-in just now.',
  4008: 'The dashboard fell behind the live updates (slow consumer) and the router closed the connection.',
  4401: 'The sign-in expired or was revoked.',
  4403: 'This account belongs to no tenant: there are no vehicles to watch.',
};

// ── the map ──────────────────────────────────────────────────────────────────
function builtinStyle(tiles) {
  const style = {
    version: 8,
    sources: {
      land: { type: 'geojson', data: `${location.origin}/dashboard/basemap/land.geojson` },
      borders: { type: 'geojson', data: `${location.origin}/dashboard/basemap/borders.geojson` },
    },
    layers: [
      { id: 'water', type: 'background', paint: { 'background-color': '#cfe0ef' } },
      { id: 'land', type: 'fill', source: 'land', paint: { 'fill-color': '#f2efe6' } },
      { id: 'borders', type: 'line', source: 'borders', paint: { 'line-color': '#a69f92', 'line-width': 1 } },
    ],
  };
  if (tiles) {
    const osm = /openstreetmap\.org/.test(tiles);
    style.sources.tiles = {
      type: 'raster',
      tiles: [tiles],
      tileSize: 256,
      maxzoom: 19,
      attribution: osm ? '© <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors' : '',
    };
    style.layers.push({ id: 'tiles', type: 'raster', source: 'tiles' });
  }
  return style;
}

function addOverlays() {
  const map = state.map;
  const empty = { type: 'FeatureCollection', features: [] };
  if (!map.getSource('geofences')) {
    // Under the trails and vehicles.
    map.addSource('geofences', { type: 'geojson', data: empty });
    map.addLayer({
      id: 'geofences-fill',
      type: 'fill',
      source: 'geofences',
      paint: { 'fill-color': '#f08c00', 'fill-opacity': 0.12 },
    });
    map.addLayer({
      id: 'geofences-line',
      type: 'line',
      source: 'geofences',
      paint: { 'line-color': '#e67700', 'line-width': 1.5, 'line-dasharray': [3, 2] },
    });
  }
  if (!map.getSource('trails')) {
    map.addSource('trails', { type: 'geojson', data: empty });
    map.addLayer({
      id: 'trails',
      type: 'line',
      source: 'trails',
      paint: { 'line-color': ['get', 'color'], 'line-width': 3, 'line-opacity': 0.6 },
    });
  }
  if (!map.getSource('history')) {
    map.addSource('history', { type: 'geojson', data: empty });
    map.addLayer({
      id: 'history',
      type: 'line',
      source: 'history',
      paint: { 'line-color': '#868e96', 'line-width': 3, 'line-dasharray': [2, 1] },
    });
    map.addSource('replayed', { type: 'geojson', data: empty });
    map.addLayer({
      id: 'replayed',
      type: 'line',
      source: 'replayed',
      paint: { 'line-color': '#c92a2a', 'line-width': 4 },
    });
  }
  state.mapReady = true;
  renderFences();
  renderMap();
  renderHistory();
}

// ── geofences ────────────────────────────────────────────────────────────────
const FENCE_PAGES = 20; // × 100 fences
const EARTH_RADIUS_M = 6_371_008.8;

/** A circle as a 64-sided ring of [longitude, latitude] (great-circle destinations from the centre). */
function circleRing(lat, lon, radiusMeters) {
  const rad = Math.PI / 180;
  const d = radiusMeters / EARTH_RADIUS_M;
  const f1 = lat * rad;
  const ring = [];
  for (let i = 0; i <= 64; i++) {
    const t = ((i % 64) / 64) * 2 * Math.PI;
    const f2 = Math.asin(Math.sin(f1) * Math.cos(d) + Math.cos(f1) * Math.sin(d) * Math.cos(t));
    const l2 =
      lon * rad + Math.atan2(Math.sin(t) * Math.sin(d) * Math.cos(f1), Math.cos(d) - Math.sin(f1) * Math.sin(f2));
    ring.push([l2 / rad, Math.max(-90, Math.min(90, f2 / rad))]);
  }
  return unwrap(ring);
}

/** A ring crossing the antimeridian, with its western longitudes shifted by 360° so it is drawn as one shape. */
function unwrap(ring) {
  const crosses = ring.some((p, i) => i > 0 && Math.abs(p[0] - ring[i - 1][0]) > 180);
  return crosses ? ring.map(([x, y]) => [x < 0 ? x + 360 : x, y]) : ring;
}

function fenceFeature(g) {
  const sh = g.shape;
  const ring = sh.type === 'CIRCLE' ? circleRing(sh.latitude, sh.longitude, sh.radiusMeters) : unwrap(sh.polygon);
  return {
    type: 'Feature',
    properties: { id: g.id, name: g.name },
    geometry: { type: 'Polygon', coordinates: [ring] },
  };
}

function renderFences() {
  if (!state.mapReady) return;
  const map = state.map;
  map.getSource('geofences')?.setData({ type: 'FeatureCollection', features: state.fences.map(fenceFeature) });
  // For people and tests alike: how many fences the map actually draws in view once it settles.
  map.once('idle', () => {
    $('#map').dataset.geofencesDrawn = String(map.queryRenderedFeatures({ layers: ['geofences-fill'] }).length);
  });
}

async function loadGeofences() {
  const fences = [];
  let after = null;
  for (let page = 0; page < FENCE_PAGES; page++) {
    const d = await gql(
      `query($after: String) { geofences(first: 100, after: $after) { edges { node { id name
        shape { type latitude longitude radiusMeters polygon } } } pageInfo { hasNextPage endCursor } } }`,
      { after },
    );
    fences.push(...d.geofences.edges.map((e) => e.node));
    if (!d.geofences.pageInfo.hasNextPage) break;
    after = d.geofences.pageInfo.endCursor;
  }
  state.fences = fences;
  $('#fence-count').textContent = fences.length === 1 ? '1 fence on the map' : `${fences.length} fences on the map`;
  renderFences();
}

const FENCE_EVENT_FIELDS = 'id type at geofence { id name } session { id deviceId user { email } }';
const FENCE_VERBS = { ENTER: 'entered', EXIT: 'left', DWELL: 'is dwelling in' };

function logFenceEvent(e, newest = true) {
  const list = $('#geofence-events');
  if (list.querySelector(`li[data-event-id="${e.id}"]`)) return;
  const li = document.createElement('li');
  li.dataset.eventId = e.id;
  li.dataset.type = e.type;
  li.textContent = `${time(e.at)} ${e.session.deviceId ?? e.session.user?.email ?? e.session.id} ${FENCE_VERBS[e.type] ?? e.type} ${e.geofence.name}`;
  if (newest) list.prepend(li);
  else list.append(li);
  while (list.children.length > 30) list.lastChild.remove();
}

async function loadGeofenceEvents() {
  const d = await gql(`query { geofenceEvents(first: 20) { edges { node { ${FENCE_EVENT_FIELDS} } } } }`);
  // Newest first, as listed.
  for (const { node } of d.geofenceEvents.edges) logFenceEvent(node, false);
}

async function initMap() {
  if (state.map) return;
  let cfg = {};
  try {
    cfg = await (await fetch('/dashboard/config.json')).json();
  } catch {
    /* the built-in map */
  }
  const url = cfg.mapStyleUrl;
  const tiles = url && url.includes('{z}') ? url : null;
  const note = $('#map-note');
  note.textContent = url ? `Map: ${new URL(url.replace(/[{}]/g, '')).host}` : 'Map: built-in outlines (offline)';
  try {
    state.map = new maplibregl.Map({
      container: 'map',
      style: url && !tiles ? url : builtinStyle(tiles),
      center: [13.405, 52.52],
      zoom: 11,
      attributionControl: { compact: true },
    });
  } catch (err) {
    note.textContent = `This browser cannot draw the map (${err.message}). The lists keep updating.`;
    return;
  }
  const map = state.map;
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'top-right');
  map.addControl(new maplibregl.ScaleControl({ unit: 'metric', maxWidth: 140 }), 'bottom-left');
  map.on('style.load', addOverlays);
  let fellBack = false;
  map.on('error', (ev) => {
    const failedStyle = url && !tiles && !state.mapReady;
    if (failedStyle && !fellBack) {
      fellBack = true;
      note.textContent = `The map style at ${new URL(url).host} could not be loaded: built-in outlines (offline).`;
      map.setStyle(builtinStyle(null));
    } else if (ev.sourceId === 'tiles' && !note.dataset.tilesFailed) {
      note.dataset.tilesFailed = '1';
      note.textContent = `Map tiles from ${new URL(tiles.replace(/[{}]/g, '')).host} could not be loaded (offline?): built-in outlines underneath.`;
    }
  });
}

function vehicleMarker(s) {
  if (s.marker || !state.map) return s.marker;
  const el = document.createElement('button');
  el.type = 'button';
  el.className = 'vehicle';
  el.tabIndex = -1; // the list is the keyboard way in
  el.dataset.sessionId = s.id;
  el.style.setProperty('--c', s.color);
  el.addEventListener('click', () => openHistory(s.id));
  s.marker = new maplibregl.Marker({ element: el });
  return s.marker;
}

function renderMap() {
  if (!state.mapReady) return;
  const features = [];
  const positions = [];
  for (const s of state.sessions.values()) {
    if (s.trail.length > 1)
      features.push({
        type: 'Feature',
        properties: { color: s.color },
        geometry: { type: 'LineString', coordinates: s.trail },
      });
    const last = s.trail[s.trail.length - 1];
    if (!last) continue;
    positions.push(last);
    const m = vehicleMarker(s);
    m.setLngLat(last);
    if (!m._map) m.addTo(state.map);
    const el = m.getElement();
    el.dataset.lnglat = `${last[0].toFixed(6)},${last[1].toFixed(6)}`;
    el.setAttribute('aria-label', `${s.label}: last position ${last[1].toFixed(5)}, ${last[0].toFixed(5)}`);
    el.title = s.label;
    el.classList.toggle('dim', Boolean(state.history));
  }
  state.map.getSource('trails')?.setData({ type: 'FeatureCollection', features });
  if (!state.fitted && positions.length > 0 && !state.history) {
    state.fitted = true;
    fitTo(positions);
  }
}

function fitTo(coords) {
  const b = new maplibregl.LngLatBounds(coords[0], coords[0]);
  for (const c of coords) b.extend(c);
  state.map.fitBounds(b, { padding: 80, maxZoom: 14, duration: 0 });
}

// ── sessions ─────────────────────────────────────────────────────────────────
function sessionEntry(node) {
  let s = state.sessions.get(node.id);
  if (!s) {
    s = { id: node.id, color: COLORS[state.sessions.size % COLORS.length], trail: [], pointCount: 0, lastAt: null };
    state.sessions.set(node.id, s);
  }
  s.label = `${node.deviceId ?? 'no device id'} · ${node.user?.email ?? 'unknown user'}`;
  if (typeof node.pointCount === 'number') s.pointCount = Math.max(s.pointCount, node.pointCount);
  return s;
}

function addPoint(s, p) {
  s.trail.push([p.longitude, p.latitude]);
  if (s.trail.length > TRAIL_POINTS) s.trail.shift();
  s.lastAt = p.recordedAt;
}

function dropSession(id) {
  const s = state.sessions.get(id);
  s?.marker?.remove();
  state.sessions.delete(id);
}

const time = (iso) => (iso ? new Date(iso).toLocaleTimeString() : '');

function sessionButton(id, label, detail, color) {
  const li = document.createElement('li');
  li.dataset.sessionId = id;
  li.setAttribute('aria-current', String(state.history?.id === id));
  const b = document.createElement('button');
  b.type = 'button';
  b.dataset.sessionId = id;
  b.style.setProperty('--c', color);
  b.textContent = label;
  const small = document.createElement('small');
  small.textContent = detail;
  b.append(small);
  b.setAttribute('aria-label', `${label}, ${detail}. Show its history.`);
  b.addEventListener('click', () => openHistory(id));
  li.append(b);
  return li;
}

function renderLists() {
  const list = $('#sessions');
  const focused = document.activeElement?.dataset?.sessionId;
  list.replaceChildren(
    ...[...state.sessions.values()].map((s) =>
      sessionButton(s.id, s.label, `${s.pointCount} points${s.lastAt ? ` · last ${time(s.lastAt)}` : ''}`, s.color),
    ),
  );
  $('#session-count').textContent = String(state.sessions.size);
  $('#recent').replaceChildren(
    ...state.recent.map((r) =>
      sessionButton(
        r.id,
        `${r.deviceId ?? 'no device id'} · ${r.user.email}`,
        `${r.pointCount} points · ended ${new Date(r.endedAt).toLocaleString()}`,
        '#adb5bd',
      ),
    ),
  );
  if (focused) document.querySelector(`.list button[data-session-id="${focused}"]`)?.focus();
}

let scheduled = false;
function render() {
  if (scheduled) return;
  scheduled = true;
  requestAnimationFrame(() => {
    scheduled = false;
    renderLists();
    renderMap();
  });
}

function logEvent(text) {
  const li = document.createElement('li');
  li.textContent = `${new Date().toLocaleTimeString()} ${text}`;
  $('#events').prepend(li);
  while ($('#events').children.length > 30) $('#events').lastChild.remove();
}

const SESSION_FIELDS = 'id deviceId pointCount status startedAt endedAt user { email }';
async function loadSessions() {
  const data = await gql(`query {
    active: locationSessions(status: ACTIVE, first: 100) { edges { node { ${SESSION_FIELDS} lastPoint { latitude longitude recordedAt } } } }
    ended: locationSessions(status: ENDED, first: 15) { edges { node { ${SESSION_FIELDS} } } } }`);
  const active = new Set();
  for (const { node } of data.active.edges) {
    active.add(node.id);
    const s = sessionEntry(node);
    if (node.lastPoint && s.trail.length === 0) addPoint(s, node.lastPoint);
  }
  for (const id of [...state.sessions.keys()]) if (!active.has(id)) dropSession(id);
  state.recent = data.ended.edges.map((e) => e.node);
  render();
}

// ── history and replay ───────────────────────────────────────────────────────
let player = null;
function stopPlaying() {
  clearInterval(player);
  player = null;
  $('#play').textContent = 'Play';
  $('#play').setAttribute('aria-pressed', 'false');
}

async function openHistory(id) {
  stopPlaying();
  showError('');
  state.history = { id, points: [], index: 0 };
  $('#history').hidden = false;
  $('#history-info').textContent = 'Loading the track…';
  $('#replay-slider').disabled = true;
  $('#play').disabled = true;
  render();
  try {
    const points = [];
    let after = null;
    let session = null;
    for (let page = 0; page < HISTORY_PAGES; page++) {
      const d = await gql(
        `query($id: ID!, $after: String) { locationSession(id: $id) { ${SESSION_FIELDS}
          points(first: 100, after: $after) { edges { node { latitude longitude speed recordedAt } } pageInfo { hasNextPage endCursor } } } }`,
        { id, after },
      );
      if (!d.locationSession) throw new ApiError('NOT_FOUND', 'That session is gone.');
      session = d.locationSession;
      points.push(...session.points.edges.map((e) => e.node));
      if (!session.points.pageInfo.hasNextPage) break;
      after = session.points.pageInfo.endCursor;
    }
    if (state.history?.id !== id) return; // another one was opened meanwhile
    points.reverse(); // newest first → oldest first
    state.history = { id, session, points, index: points.length ? points.length - 1 : 0 };
    const shown = points.length < session.pointCount ? ` (the latest ${points.length})` : '';
    $('#history-info').textContent =
      `${session.deviceId ?? 'no device id'} · ${session.user.email} · ${session.status === 'ACTIVE' ? 'active' : 'ended'} · ` +
      `${session.pointCount} points${shown}` +
      (points.length
        ? ` · ${new Date(points[0].recordedAt).toLocaleString()} – ${time(points.at(-1).recordedAt)}`
        : '');
    const slider = $('#replay-slider');
    slider.max = String(Math.max(0, points.length - 1));
    slider.value = String(state.history.index);
    slider.disabled = points.length < 2;
    $('#play').disabled = points.length < 2;
    if (state.mapReady && points.length) fitTo(points.map((p) => [p.longitude, p.latitude]));
    renderHistory();
    render();
  } catch (err) {
    $('#history-info').textContent = `The track could not be loaded. ${inWords(err)}`;
  }
}

let replayMarker = null;
function renderHistory() {
  const h = state.history;
  const empty = { type: 'FeatureCollection', features: [] };
  const line = (pts) => ({
    type: 'Feature',
    properties: {},
    geometry: { type: 'LineString', coordinates: pts.map((p) => [p.longitude, p.latitude]) },
  });
  if (!h || !h.points.length) {
    if (state.mapReady) {
      state.map.getSource('history')?.setData(empty);
      state.map.getSource('replayed')?.setData(empty);
    }
    replayMarker?.remove();
    replayMarker = null;
    return;
  }
  const p = h.points[h.index];
  const label = `${new Date(p.recordedAt).toLocaleString()} · point ${h.index + 1} of ${h.points.length}${
    typeof p.speed === 'number' ? ` · ${(p.speed * 3.6).toFixed(0)} km/h` : ''
  }`;
  $('#replay-time').textContent = label;
  $('#replay-slider').setAttribute('aria-valuetext', label);
  if (!state.mapReady) return;
  state.map.getSource('history')?.setData(line(h.points));
  state.map.getSource('replayed')?.setData(h.index > 0 ? line(h.points.slice(0, h.index + 1)) : empty);
  if (!replayMarker) {
    const el = document.createElement('div');
    el.className = 'replay-marker';
    el.id = 'replay-marker';
    replayMarker = new maplibregl.Marker({ element: el }).setLngLat([p.longitude, p.latitude]).addTo(state.map);
  }
  replayMarker.setLngLat([p.longitude, p.latitude]);
  replayMarker.getElement().dataset.index = String(h.index);
  replayMarker.getElement().dataset.lnglat = `${p.longitude.toFixed(6)},${p.latitude.toFixed(6)}`;
}

function closeHistory() {
  stopPlaying();
  state.history = null;
  $('#history').hidden = true;
  renderHistory();
  render();
  $('#sessions button')?.focus();
}

$('#replay-slider').addEventListener('input', (ev) => {
  if (!state.history) return;
  stopPlaying();
  state.history.index = Number(ev.target.value);
  renderHistory();
});
$('#play').addEventListener('click', () => {
  const h = state.history;
  if (!h || h.points.length < 2) return;
  if (player) return stopPlaying();
  if (h.index >= h.points.length - 1) h.index = 0;
  const step = Math.max(1, Math.ceil(h.points.length / 300)); // a whole track in ≤ 30 s
  $('#play').textContent = 'Pause';
  $('#play').setAttribute('aria-pressed', 'true');
  player = setInterval(() => {
    if (state.history !== h) return stopPlaying();
    h.index = Math.min(h.points.length - 1, h.index + step);
    $('#replay-slider').value = String(h.index);
    renderHistory();
    if (h.index >= h.points.length - 1) stopPlaying();
  }, 100);
});
$('#history-close').addEventListener('click', closeHistory);
document.addEventListener('keydown', (ev) => {
  if (ev.key === 'Escape' && state.history) closeHistory();
});

// ── live updates over graphql-ws ─────────────────────────────────────────────
function connect() {
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${GRAPHQL}`;
  setConn(state.attempt ? 'reconnecting' : 'connecting', state.attempt ? 'Reconnecting…' : 'Connecting…');
  const ws = new WebSocket(url, 'graphql-transport-ws');
  state.socket = ws;
  const handlers = new Map();
  const subscribe = (id, query, onData) => {
    handlers.set(id, onData);
    ws.send(JSON.stringify({ id, type: 'subscribe', payload: { query } }));
  };
  ws.onopen = () =>
    ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${state.token}` } }));
  ws.onmessage = async (msg) => {
    const m = JSON.parse(msg.data);
    if (m.type === 'ping') return ws.send(JSON.stringify({ type: 'pong' }));
    if (m.type === 'connection_ack') {
      const resync = state.attempt > 0;
      state.attempt = 0;
      setConn('live', 'Live', '');
      subscribe(
        'points',
        'subscription { locationUpdated { session { id pointCount deviceId user { email } } point { latitude longitude recordedAt } } }',
        (data) => {
          const u = data.locationUpdated;
          const s = sessionEntry(u.session);
          s.pointCount = u.session.pointCount;
          addPoint(s, u.point);
          render();
        },
      );
      subscribe(
        'sessions',
        'subscription { sessionEvents { type at session { id deviceId pointCount status startedAt endedAt user { email } } } }',
        (data) => {
          const e = data.sessionEvents;
          if (e.type === 'STARTED') sessionEntry(e.session);
          else {
            dropSession(e.session.id);
            state.recent = [e.session, ...state.recent.filter((r) => r.id !== e.session.id)].slice(0, 15);
          }
          logEvent(
            `${e.session.deviceId ?? e.session.id} ${e.type === 'STARTED' ? 'started' : 'ended'} (${e.session.user?.email ?? ''})`,
          );
          render();
        },
      );
      subscribe('geofences', `subscription { geofenceEvents { ${FENCE_EVENT_FIELDS} } }`, (data) =>
        logFenceEvent(data.geofenceEvents),
      );
      if (resync) {
        logEvent('reconnected: reloading the sessions');
        loadSessions().catch((err) => showError(inWords(err)));
        loadGeofences().catch(() => undefined);
        loadGeofenceEvents().catch(() => undefined);
      }
      return;
    }
    if (m.type === 'next' && m.payload.data) handlers.get(m.id)?.(m.payload.data);
    else if (m.type === 'next' && m.payload.errors?.some((e) => e.extensions?.code === 'LIVE_EVENTS_MISSED')) {
      // A gap marker: live events were missed; re-read the sessions to resync.
      logEvent('live events missed: resyncing');
      void loadSessions().catch(() => undefined);
      if (m.id === 'geofences') void loadGeofenceEvents().catch(() => undefined);
    }
    if (m.type === 'error') {
      const text = m.payload.map((e) => e.message).join('; ');
      logEvent(`subscription refused: ${text}`);
      showError(`Live updates were refused: ${text}`);
    }
  };
  ws.onclose = async (ev) => {
    if (state.socket !== ws || !state.token) return;
    const why = CLOSE_WORDS[ev.code] ?? `The connection closed (${ev.code}${ev.reason ? `: ${ev.reason}` : ''}).`;
    logEvent(`disconnected: ${why}`);
    if (ev.code === 4403) return setConn('closed', 'Closed', why);
    if (ev.code === 4401) {
      // Try the refresh token once; otherwise the user signs in again.
      try {
        if (!state.refreshToken) throw new Error('no refresh token');
        const d = await gql('mutation($r: String!) { refreshToken(refreshToken: $r) { accessToken } }', {
          r: state.refreshToken,
        });
        state.token = d.refreshToken.accessToken;
      } catch {
        signOutLocally(`${why} Sign in again.`);
        return;
      }
    }
    if (ev.code === 4008) state.slowCloses += 1;
    state.reconnects += 1;
    state.attempt += 1;
    const delay = Math.min(15_000, 500 * 2 ** Math.min(state.attempt, 5));
    setConn('reconnecting', 'Reconnecting', `${why} Retrying in ${Math.round(delay / 1000)} s.`);
    setTimeout(() => state.token && state.socket === ws && connect(), delay);
  };
}

// ── platform admins ──────────────────────────────────────────────────────────
async function showPlatform() {
  $('#platform').hidden = false;
  const select = $('#tenant-select');
  try {
    const d = await gql('query { tenants(first: 100) { edges { node { id name slug status } } } }');
    const tenants = d.tenants.edges.map((e) => e.node);
    select.replaceChildren(
      new Option('— choose a tenant —', ''),
      ...tenants.map(
        (t) => new Option(`${t.name} (${t.slug}${t.status === 'ACTIVE' ? '' : `, ${t.status.toLowerCase()}`})`, t.id),
      ),
    );
    if (tenants.length === 0)
      $('#tenant-users').textContent = 'There are no tenants yet: create one with the createTenant mutation.';
  } catch (err) {
    $('#tenant-users').textContent = `The tenants could not be listed. ${inWords(err)}`;
  }
}

$('#tenant-select').addEventListener('change', async (ev) => {
  const out = $('#tenant-users');
  const id = ev.target.value;
  out.replaceChildren();
  if (!id) return;
  try {
    const d = await gql(
      'query($id: ID!) { tenant(id: $id) { name users(first: 50) { edges { node { email role } } } } }',
      {
        id,
      },
    );
    const users = d.tenant.users.edges.map((e) => e.node);
    const p = document.createElement('p');
    if (users.length === 0) {
      p.textContent = `${d.tenant.name} has no users yet: invite one (inviteUser with its tenantId), then sign in as them.`;
      return out.append(p);
    }
    p.textContent = `To watch ${d.tenant.name}, sign out and sign in as one of its users (a tenant admin sees every vehicle, a member their own):`;
    const ul = document.createElement('ul');
    for (const u of users) {
      const li = document.createElement('li');
      const b = document.createElement('button');
      b.type = 'button';
      b.textContent = `Sign in as ${u.email}`;
      b.addEventListener('click', () => {
        signOut().then(() => {
          $('#email').value = u.email;
          $('#password').focus();
        });
      });
      li.append(b, ` ${u.role === 'TENANT_ADMIN' ? 'tenant admin' : 'member'}`);
      ul.append(li);
    }
    out.append(p, ul);
  } catch (err) {
    out.textContent = `The users could not be listed. ${inWords(err)}`;
  }
});

// ── sign in / out ────────────────────────────────────────────────────────────
$('#login-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  $('#login-error').textContent = '';
  try {
    const data = await gql(
      'mutation($email: String!, $password: String!) { login(email: $email, password: $password) { accessToken refreshToken user { email role } } }',
      { email: $('#email').value, password: $('#password').value },
    );
    state.token = data.login.accessToken;
    state.refreshToken = data.login.refreshToken;
    state.user = data.login.user;
    const u = state.user;
    $('#who').textContent =
      `${u.email} · ${{ PLATFORM_ADMIN: 'platform admin', TENANT_ADMIN: 'tenant admin', MEMBER: 'member' }[u.role] ?? u.role}`;
    $('#login').hidden = true;
    $('#logout').hidden = false;
    $('#password').value = '';
    if (u.role === 'PLATFORM_ADMIN') {
      setConn('signed-in', 'No live view', 'platform admins watch no tenant');
      await showPlatform();
      $('#tenant-select').focus();
      return;
    }
    $('#app').hidden = false;
    await initMap();
    await loadSessions();
    // Fences and their history are extras: the live view starts without them if they fail.
    loadGeofences().catch((err) => logEvent(`geofences could not be loaded: ${inWords(err)}`));
    loadGeofenceEvents().catch((err) => logEvent(`geofence events could not be loaded: ${inWords(err)}`));
    connect();
  } catch (err) {
    $('#login-error').textContent = inWords(err);
  }
});

function signOutLocally(message = '') {
  stopPlaying();
  state.token = null;
  state.refreshToken = null;
  state.socket?.close(1000, 'signed out');
  state.socket = null;
  for (const id of [...state.sessions.keys()]) dropSession(id);
  state.fences = [];
  renderFences();
  $('#geofence-events').replaceChildren();
  state.history = null;
  state.fitted = false;
  state.attempt = 0;
  renderHistory();
  $('#history').hidden = true;
  $('#login').hidden = false;
  $('#app').hidden = true;
  $('#platform').hidden = true;
  $('#logout').hidden = true;
  $('#who').textContent = '';
  $('#login-error').textContent = message;
  setConn('signed-out', 'Signed out');
  $('#email').focus();
}

async function signOut() {
  try {
    if (state.refreshToken) await gql('mutation($r: String) { logout(refreshToken: $r) }', { r: state.refreshToken });
  } catch {
    /* the token may already be invalid */
  }
  signOutLocally();
}
$('#logout').addEventListener('click', () => signOut());
