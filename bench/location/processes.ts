// The stack as it is deployed (docker-compose.yml): the router and the four subgraphs, each its
// own Node process running its compiled bundle (`dist/<service>.js`, built here first exactly as
// `npm run build` does) with environment variables only.
// Used by location.bench.ts with BENCH_TOPOLOGY=processes. CPU time and RSS per process are read
// from /proc (Linux), the router's subscription count from its /metrics.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { freePort } from '@lt/testing';
import { buildAll } from '../../scripts/build';

const root = fileURLToPath(new URL('../../', import.meta.url));
const SERVICES = ['auth', 'tenant', 'location', 'streaming'] as const;
type Service = (typeof SERVICES)[number] | 'router';

export interface ProcessStack {
  routerUrl: string;
  /** user+system CPU µs and resident set bytes per process, live subscriptions on the router. */
  stats(): Promise<{ cpu: Record<Service, number>; rss: Record<Service, number>; subscriptions: number }>;
  stop(): Promise<void>;
}

/** utime + stime of a process, µs (clock ticks are 100/s on Linux). */
function cpuMicros(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

async function waitHealthy(url: string, child: ChildProcess, name: string, deadlineMs = 60_000): Promise<void> {
  const until = Date.now() + deadlineMs;
  for (let i = 0; Date.now() < until && i < 600; i++) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1_000) });
      if (res.ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${name} not healthy after ${deadlineMs} ms (${url})`);
}

export async function startProcesses(o: {
  databaseUrl: string;
  redisUrl: string;
  cognito: { endpoint: string; userPoolId: string; clientId: string };
}): Promise<ProcessStack> {
  const common: NodeJS.ProcessEnv = {
    PATH: process.env['PATH'],
    HOME: process.env['HOME'],
    NODE_ENV: 'development',
    LOG_LEVEL: 'warn',
    HOST: '127.0.0.1',
    ROUTER_CONTEXT_SECRET: randomBytes(24).toString('hex'),
    DATABASE_URL: o.databaseUrl,
    REDIS_URL: o.redisUrl,
    COGNITO_ENDPOINT: o.cognito.endpoint,
    COGNITO_USER_POOL_ID: o.cognito.userPoolId,
    COGNITO_CLIENT_ID: o.cognito.clientId,
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_REGION: 'us-east-1',
    STREAMING_SECRET_KEY: randomBytes(32).toString('base64'),
    // The bench measures the API and live fan-out; the webhook pipeline is bench/streaming's.
    STREAMING_RELAY: 'false',
  };
  const children = new Map<Service, ChildProcess>();
  // A crashed bench must not leave the services running.
  process.once('exit', () => {
    for (const c of children.values()) if (c.exitCode === null) c.kill('SIGKILL');
  });
  const stop = async (): Promise<void> => {
    await Promise.all(
      [...children.values()].map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.exitCode !== null || c.signalCode !== null) return resolve();
            const kill = setTimeout(() => c.kill('SIGKILL'), 10_000);
            c.once('exit', () => {
              clearTimeout(kill);
              resolve();
            });
            c.kill('SIGTERM');
          }),
      ),
    );
  };
  const start = (name: Service, entry: string, env: NodeJS.ProcessEnv): ChildProcess => {
    // BENCH_CPU_PROF=<dir>: a V8 CPU profile per process (written when it stops), named by pid.
    const prof = process.env['BENCH_CPU_PROF'];
    const flags = prof ? ['--cpu-prof', `--cpu-prof-dir=${prof}`, `--cpu-prof-name=${name}.cpuprofile`] : [];
    const child = spawn(process.execPath, [...flags, '--enable-source-maps', entry], {
      cwd: root,
      env: { ...common, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const show = (chunk: Buffer) => {
      for (const line of String(chunk).split('\n'))
        if (line.trim() && !/NodeVersionSupportWarning|node >=22|a\.co\/|trace-warnings|^\s*$/.test(line))
          console.error(`[${name}] ${line.slice(0, 400)}`);
    };
    child.stdout!.on('data', show);
    child.stderr!.on('data', show);
    children.set(name, child);
    return child;
  };
  const bundles = await buildAll();
  try {
    const urls: Record<string, string> = {};
    await Promise.all(
      SERVICES.map(async (name) => {
        const port = await freePort();
        const child = start(name, bundles[name]!, { PORT: String(port) });
        urls[name] = `http://127.0.0.1:${port}/graphql`;
        await waitHealthy(`http://127.0.0.1:${port}/healthz`, child, name);
      }),
    );
    const port = await freePort();
    const router = start('router', bundles['router']!, {
      PORT: String(port),
      AUTH_URL: urls['auth'],
      TENANT_URL: urls['tenant'],
      LOCATION_URL: urls['location'],
      STREAMING_URL: urls['streaming'],
    });
    await waitHealthy(`http://127.0.0.1:${port}/readyz`, router, 'router');
    const routerUrl = `http://127.0.0.1:${port}/graphql`;
    return {
      routerUrl,
      async stats() {
        const cpu = {} as Record<Service, number>;
        const rss = {} as Record<Service, number>;
        for (const [name, c] of children) {
          cpu[name] = cpuMicros(c.pid!);
          rss[name] = rssBytes(c.pid!);
        }
        const text = await (
          await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(5_000) })
        ).text();
        const subscriptions = Number(/^router_subscriptions (\d+)$/m.exec(text)?.[1] ?? 0);
        return { cpu, rss, subscriptions };
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
