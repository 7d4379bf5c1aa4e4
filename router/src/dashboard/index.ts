import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Express, Response } from 'express';

const file = (name: string): string => readFileSync(new URL(`./public/${name}`, import.meta.url), 'utf8');
const require = createRequire(import.meta.url);
const maplibreDir = join(dirname(require.resolve('maplibre-gl/package.json')), 'dist');
const worldAtlasDir = dirname(require.resolve('world-atlas/package.json'));

interface Topology {
  type: 'Topology';
  objects: Record<string, unknown>;
}
const topojson = require('topojson-client') as {
  feature(topology: Topology, object: unknown): unknown;
  mesh(topology: Topology, object: unknown, filter?: (a: unknown, b: unknown) => boolean): unknown;
};

export interface DashboardOptions {
  /**
   * MAP_STYLE_URL: a MapLibre style JSON URL, or a raster tile URL template with `{z}/{x}/{y}`
   * (e.g. OpenStreetMap's). Unset: the built-in offline basemap only.
   */
  mapStyleUrl?: string;
}

/** The built-in offline basemap: Natural Earth 1:50m land and country borders (world-atlas) as GeoJSON. */
function basemap(): { land: string; borders: string } {
  const topology = JSON.parse(readFileSync(join(worldAtlasDir, 'countries-50m.json'), 'utf8')) as Topology;
  const round = (_key: string, v: unknown): unknown => (typeof v === 'number' ? Math.round(v * 1e4) / 1e4 : v);
  return {
    land: JSON.stringify(topojson.feature(topology, topology.objects['land']), round),
    borders: JSON.stringify(
      topojson.mesh(topology, topology.objects['countries'], (a, b) => a !== b),
      round,
    ),
  };
}

/** Origins the browser may fetch map data from besides the router itself. */
function mapSources(styleUrl: string | undefined): string {
  if (!styleUrl) return '';
  // A tile template names its one host; a style JSON may point at any https host for its tiles.
  return /\{z\}/.test(styleUrl) ? ` ${new URL(styleUrl.replace(/[{}]/g, '')).origin}` : ' https:';
}

/**
 * Mounts the live dashboard at /dashboard: static files, MapLibre GL JS and the offline basemap,
 * all served by the router from node_modules (no CDN, no external fonts; no external requests at
 * all unless MAP_STYLE_URL names a tile server). It talks to /graphql like any client. A strict
 * Content-Security-Policy keeps it that way.
 */
export function mountDashboard(app: Express, options: DashboardOptions = {}): void {
  const csp = [
    "default-src 'none'",
    "script-src 'self'",
    "worker-src 'self'",
    "style-src 'self'",
    `connect-src 'self'${mapSources(options.mapStyleUrl)}`,
    `img-src 'self' data: blob:${mapSources(options.mapStyleUrl)}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
  const send = (res: Response, body: string | Buffer, type: string, cache = 'no-cache'): void => {
    res.setHeader('content-type', type);
    res.setHeader('content-security-policy', csp);
    res.setHeader('x-content-type-options', 'nosniff');
    res.setHeader('cache-control', cache);
    res.send(body);
  };
  const js = 'text/javascript; charset=utf-8';
  const assets: Record<string, [string, string]> = {
    '/dashboard': [file('index.html'), 'text/html; charset=utf-8'],
    '/dashboard/app.js': [file('app.js'), js],
    '/dashboard/app.css': [file('app.css'), 'text/css; charset=utf-8'],
    '/dashboard/config.json': [
      JSON.stringify({ mapStyleUrl: options.mapStyleUrl ?? null }),
      'application/json; charset=utf-8',
    ],
  };
  for (const [path, [body, type]] of Object.entries(assets)) app.get(path, (_req, res) => send(res, body, type));

  // MapLibre finds its worker next to its own module (maplibre-gl-worker.mjs?v=<version>).
  const vendor: Record<string, [string, string]> = {
    'maplibre-gl.mjs': ['maplibre-gl.mjs', js],
    'maplibre-gl-worker.mjs': ['maplibre-gl-worker.mjs', js],
    'maplibre-gl.css': ['maplibre-gl.css', 'text/css; charset=utf-8'],
  };
  const vendorCache = new Map<string, Buffer>();
  app.get('/dashboard/vendor/:name', (req, res, next) => {
    const entry = vendor[req.params.name];
    if (!entry) return next();
    let body = vendorCache.get(entry[0]);
    if (!body) vendorCache.set(entry[0], (body = readFileSync(join(maplibreDir, entry[0]))));
    send(res, body, entry[1], 'public, max-age=3600');
  });

  let outlines: { land: string; borders: string } | undefined;
  for (const layer of ['land', 'borders'] as const) {
    app.get(`/dashboard/basemap/${layer}.geojson`, (_req, res) => {
      outlines ??= basemap();
      send(res, outlines[layer], 'application/geo+json', 'public, max-age=3600');
    });
  }
}
