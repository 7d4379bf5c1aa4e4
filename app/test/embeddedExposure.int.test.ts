/**
 * `npm start` with an embedded Postgres or Cognito refuses to listen beyond loopback unless
 * ALLOW_EMBEDDED_PUBLIC=true: the stand-ins carry demo accounts with published passwords.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { checkEmbeddedExposure, isLoopbackHost } from '@lt/app';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const dataDir = mkdtempSync(join(tmpdir(), 'lt-exposure-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('embedded stand-ins and HOST', () => {
  it('npm start with HOST=0.0.0.0 and nothing configured exits with a message naming the fix', () => {
    const env: NodeJS.ProcessEnv = { ...process.env, HOST: '0.0.0.0', DATA_DIR: dataDir, LOG_LEVEL: 'silent' };
    for (const k of ['DATABASE_URL', 'COGNITO_USER_POOL_ID', 'COGNITO_CLIENT_ID', 'ALLOW_EMBEDDED_PUBLIC'])
      delete env[k];
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], {
      cwd: repo,
      env,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.status).not.toBe(0);
    const out = `${r.stdout}${r.stderr}`;
    expect(out).toContain('HOST=0.0.0.0 is not a loopback address');
    expect(out).toContain('ALLOW_EMBEDDED_PUBLIC=true');
    // Refused before anything started: no embedded database or Cognito data was written.
    expect(existsSync(join(dataDir, 'postgres'))).toBe(false);
    expect(existsSync(join(dataDir, 'cognito'))).toBe(false);
  });

  it.each([
    ['127.0.0.1', {}, true],
    ['localhost', {}, true],
    ['::1', {}, true],
    ['0.0.0.0', {}, false],
    ['::', {}, false],
    ['192.168.1.20', {}, false],
    ['0.0.0.0', { allowEmbeddedPublic: true }, true],
    ['0.0.0.0', { databaseUrl: 'postgresql://x@db/x', cognito: { userPoolId: 'p', clientId: 'c' } }, true],
    ['0.0.0.0', { databaseUrl: 'postgresql://x@db/x' }, false],
    ['0.0.0.0', { cognito: { userPoolId: 'p', clientId: 'c' } }, false],
  ] as const)('HOST=%s with %j: starts = %s', (host, extra, starts) => {
    const check = () => checkEmbeddedExposure({ host, ...extra });
    if (starts) expect(check).not.toThrow();
    else expect(check).toThrow(/not a loopback address.*ALLOW_EMBEDDED_PUBLIC=true/s);
    expect(isLoopbackHost(host)).toBe(['127.0.0.1', 'localhost', '::1'].includes(host));
  });
});
