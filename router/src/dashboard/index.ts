import { readFileSync } from 'node:fs';
import type { Express } from 'express';

const file = (name: string): string => readFileSync(new URL(`./public/${name}`, import.meta.url), 'utf8');

/**
 * Mounts the live dashboard at /dashboard: static files only (no external scripts, tiles or
 * fonts), talking to /graphql like any client. A strict Content-Security-Policy keeps it that way.
 */
export function mountDashboard(app: Express): void {
  const assets: Record<string, [string, string]> = {
    '/dashboard': [file('index.html'), 'text/html; charset=utf-8'],
    '/dashboard/app.js': [file('app.js'), 'text/javascript; charset=utf-8'],
    '/dashboard/app.css': [file('app.css'), 'text/css; charset=utf-8'],
  };
  for (const [path, [body, type]] of Object.entries(assets)) {
    app.get(path, (_req, res) => {
      res.setHeader('content-type', type);
      res.setHeader(
        'content-security-policy',
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
      );
      res.setHeader('x-content-type-options', 'nosniff');
      res.setHeader('cache-control', 'no-cache');
      res.send(body);
    });
  }
}
