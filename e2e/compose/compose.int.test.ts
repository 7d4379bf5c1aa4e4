/**
 * docker-compose.yml is parsed and validated by Debian's docker-compose (v1), which needs no
 * engine. The test also checks the stack's shape: every service present, app services
 * wait for migrations and healthy dependencies, and every service has a health check.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { loadConfig, type ConfigSpec } from '@lt/config';
import { routerConfigSpec } from '@lt/router/config';
import { authConfigSpec } from '@lt/subgraph-auth/config';
import { locationConfigSpec } from '@lt/subgraph-location/config';
import { streamingConfigSpec } from '@lt/subgraph-streaming/config';
import { tenantConfigSpec } from '@lt/subgraph-tenant/config';

const root = fileURLToPath(new URL('../..', import.meta.url));

interface ComposeService {
  environment?: Record<string, string | number | null>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: unknown;
  command?: string[];
}

describe('docker-compose.yml', () => {
  it('validates with docker-compose config and orders the stack by health', () => {
    const out = execFileSync('docker-compose', ['config'], { cwd: root, encoding: 'utf8', timeout: 60_000 });
    const doc = YAML.parse(out) as { services: Record<string, ComposeService> };
    const names = Object.keys(doc.services).sort();
    expect(names).toEqual([
      'auth',
      'cognito',
      'kafka',
      'location',
      'migrate',
      'postgres',
      'redis',
      'router',
      'streaming',
      'tenant',
    ]);
    for (const name of ['auth', 'tenant', 'location', 'streaming', 'router']) {
      const deps = doc.services[name]!.depends_on!;
      expect(deps['migrate']?.condition, `${name} waits for migrations`).toBe('service_completed_successfully');
      expect(deps['kafka']?.condition).toBe('service_healthy');
      expect(doc.services[name]!.healthcheck, `${name} has a health check`).toBeDefined();
    }
    for (const sub of ['auth', 'tenant', 'location', 'streaming']) {
      expect(doc.services['router']!.depends_on![sub]?.condition).toBe('service_healthy');
    }
    expect(doc.services['migrate']!.depends_on!['postgres']?.condition).toBe('service_healthy');
  });

  it('gives every app service an environment its own config accepts (it would exit at start otherwise)', () => {
    const out = execFileSync('docker-compose', ['config'], { cwd: root, encoding: 'utf8', timeout: 60_000 });
    const doc = YAML.parse(out) as { services: Record<string, ComposeService> };
    const specs: Record<string, ConfigSpec> = {
      router: routerConfigSpec,
      auth: authConfigSpec,
      tenant: tenantConfigSpec,
      location: locationConfigSpec,
      streaming: streamingConfigSpec,
    };
    for (const [name, spec] of Object.entries(specs)) {
      const env = Object.fromEntries(
        Object.entries(doc.services[name]!.environment ?? {}).map(([k, v]) => [k, v === null ? undefined : String(v)]),
      );
      expect(() => loadConfig(spec, env), `${name}'s environment in docker-compose.yml`).not.toThrow();
    }
  });
});
