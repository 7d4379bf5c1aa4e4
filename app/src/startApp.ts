import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Redis } from 'ioredis';
import { applyMigrations, setupDatabase, MIGRATIONS_DIR } from '@lt/db';
import { startEmbeddedCognito, startEmbeddedPostgres, type EmbeddedCognito, type EmbeddedPostgres } from '@lt/embedded';
import type { Logger } from '@lt/logger';
import { createRedisConnection, createRedisPubSub, createRedisSubscriber } from '@lt/pubsub';
import { createMemoryEventLog, type EventLog } from '@lt/subgraph-streaming';
import { DEMO_ACCOUNTS, seedDemo, type DemoState } from './demo/seed';
import { startDemoDriver, type DemoDriver } from './demo/driver';
import { startDemoReceiver, type DemoReceiver } from './demo/receiver';
import { startStack, type Stack, type StackOptions } from './startStack';

/** Everything `npm start` can be told (validated by scripts/start.ts; documented in the README). */
export interface AppConfig {
  production: boolean;
  host: string;
  port: number;
  /** Fixed subgraph ports (4001–4004 by default). */
  subgraphPorts: { auth: number; tenant: number; location: number; streaming: number };
  /** Where embedded services keep their data. Default `.data`. */
  dataDir: string;
  contextSecret?: string;
  databaseUrl?: string;
  /** Superuser URL: create roles + database and migrate at start (real Postgres). */
  adminDatabaseUrl?: string;
  /** Owner URL: migrate at start (real Postgres). */
  migrationDatabaseUrl?: string;
  redisUrl?: string;
  kafkaBrokers?: string[];
  kafkaTopicPrefix: string;
  kafkaGroupId: string;
  cognito?: { userPoolId: string; clientId: string; endpoint?: string; region?: string; issuer?: string };
  /** Port of the embedded cognito-local (0 = any free port). Default 9229, falling back to any. */
  cognitoLocalPort: number;
  bootstrapAdmin?: { email: string; password: string };
  streamingSecretKey?: string;
  allowLoopbackSinks: boolean;
  /** Seed the demo tenant, users and sink (default: on when Postgres is embedded). */
  demo: boolean;
  /** With the demo: the built-in demo driver moves a few vans of the demo member. Default on. */
  demoDriver?: boolean;
  demoReceiverPort: number;
  /** Dashboard map style (MAP_STYLE_URL); unset: the built-in offline basemap. */
  mapStyleUrl?: string;
  /**
   * Listen on a non-loopback `host` although Postgres or Cognito is an embedded stand-in
   * (ALLOW_EMBEDDED_PUBLIC). Off: such a start is refused.
   */
  allowEmbeddedPublic?: boolean;
  /** Point retention (POINT_RETENTION_MAX_DAYS, RETENTION_INTERVAL_SECONDS as ms). Default 365 days, 10 min. */
  retention?: { maxDays?: number; intervalMs?: number };
  /** Fleet rules (DEVICE_OFFLINE_AFTER_SECONDS, STOP_MIN_SECONDS, STOP_RADIUS_METERS). */
  fleet?: { offlineAfterSeconds?: number; stopMinSeconds?: number; stopRadiusMeters?: number };
}

/** Whether `host` only accepts connections from this machine. */
export function isLoopbackHost(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || /^::ffff:127\./.test(h);
}

/**
 * The embedded stand-ins are for one developer's machine (demo accounts with published passwords,
 * a development Postgres): listening beyond loopback with them needs an explicit opt-in.
 */
export function checkEmbeddedExposure(
  c: Pick<AppConfig, 'host' | 'databaseUrl' | 'cognito' | 'allowEmbeddedPublic'>,
): void {
  const embedded = [...(c.databaseUrl ? [] : ['Postgres']), ...(c.cognito ? [] : ['Cognito'])];
  if (embedded.length === 0 || isLoopbackHost(c.host) || c.allowEmbeddedPublic) return;
  throw new Error(
    `HOST=${c.host} is not a loopback address, but ${embedded.join(' and ')} would be the embedded development ` +
      'stand-in (demo accounts, development data): refusing to start. Configure the real services ' +
      '(DATABASE_URL, COGNITO_USER_POOL_ID + COGNITO_CLIENT_ID), listen on 127.0.0.1, or set ' +
      'ALLOW_EMBEDDED_PUBLIC=true to expose the embedded stand-ins anyway.',
  );
}

export type PartMode = 'embedded' | 'external';

export interface App {
  stack: Stack;
  routerUrl: string;
  dashboardUrl: string;
  parts: { postgres: PartMode; cognito: PartMode; redis: PartMode; kafka: PartMode };
  demo?: {
    /** The platform admin is BOOTSTRAP_ADMIN_* when configured (`configuredAdmin`), else the demo one. */
    accounts: { admin: { email: string; password: string } } & Omit<typeof DEMO_ACCOUNTS, 'admin'>;
    configuredAdmin: boolean;
    state: DemoState;
    receiverUrl: string;
    receiver: DemoReceiver;
    driver?: DemoDriver;
  };
  readyMs: number;
  stop(): Promise<void>;
}

const migrationsDir = MIGRATIONS_DIR;

/** Secrets the embedded mode generates once and keeps in `<dataDir>/secrets.json` (mode 600). */
function localSecrets(dataDir: string): { contextSecret: string; streamingSecretKey: string } {
  const file = join(dataDir, 'secrets.json');
  if (existsSync(file))
    return JSON.parse(readFileSync(file, 'utf8')) as { contextSecret: string; streamingSecretKey: string };
  const s = {
    contextSecret: randomBytes(32).toString('base64url'),
    streamingSecretKey: randomBytes(32).toString('base64'),
  };
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(file, JSON.stringify(s), { mode: 0o600 });
  return s;
}

async function startCognitoLocal(dataDir: string, port: number): Promise<EmbeddedCognito> {
  try {
    return await startEmbeddedCognito({ dataDir, port });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || port === 0) throw err;
    return startEmbeddedCognito({ dataDir, port: 0 });
  }
}

/**
 * Starts the whole platform in this process. Each external dependency is real when configured
 * (DATABASE_URL, REDIS_URL, KAFKA_BROKERS, COGNITO_*) and an embedded stand-in otherwise:
 * PGlite (real Postgres, RLS included), cognito-local, in-process cache/pub-sub and event log.
 */
export async function startApp(c: AppConfig, log: Logger): Promise<App> {
  const t0 = performance.now();
  checkEmbeddedExposure(c);
  const dataDir = resolve(c.dataDir);
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async (): Promise<void> => {
    for (const s of stops.reverse()) await s().catch((err: unknown) => log.error('stop failed', { err }));
  };
  try {
    const secrets = !c.contextSecret || !c.streamingSecretKey ? localSecrets(dataDir) : undefined;
    if (c.production && (!c.contextSecret || !c.streamingSecretKey)) {
      throw new Error('production needs ROUTER_CONTEXT_SECRET and STREAMING_SECRET_KEY');
    }

    // Postgres
    let pg: EmbeddedPostgres | undefined;
    let databaseUrl = c.databaseUrl;
    if (!databaseUrl) {
      pg = await startEmbeddedPostgres({ dataDir: join(dataDir, 'postgres'), log: log.child({ part: 'postgres' }) });
      stops.push(() => pg!.stop());
      databaseUrl = pg.appUrl;
    } else if (c.adminDatabaseUrl) {
      const u = new URL(databaseUrl);
      const r = await setupDatabase({
        adminUrl: c.adminDatabaseUrl,
        database: u.pathname.slice(1),
        ownerPassword: process.env['DB_OWNER_PASSWORD'] ?? 'lt_owner_dev',
        appPassword: decodeURIComponent(u.password || 'lt_app_dev'),
        migrationsDir,
      });
      log.info('database migrated', { applied: r.applied });
    } else if (c.migrationDatabaseUrl) {
      const r = await applyMigrations(c.migrationDatabaseUrl, migrationsDir);
      log.info('database migrated', { applied: r.applied });
    }

    // Cognito
    let cognitoLocal: EmbeddedCognito | undefined;
    let cognito = c.cognito;
    if (!cognito) {
      cognitoLocal = await startCognitoLocal(join(dataDir, 'cognito'), c.cognitoLocalPort);
      stops.push(() => cognitoLocal!.stop());
      cognito = {
        userPoolId: cognitoLocal.userPoolId,
        clientId: cognitoLocal.clientId,
        endpoint: cognitoLocal.endpoint,
        issuer: cognitoLocal.issuer,
      };
    }

    // Redis (membership cache, revocations, rate limits, identity events, live fan-out)
    let redis: Redis | undefined;
    let pubsubConn: Redis | undefined;
    if (c.redisUrl) {
      const onError = (err: Error): void => log.debug('redis', { err: err.message });
      redis = createRedisConnection(c.redisUrl, { onError });
      pubsubConn = createRedisSubscriber(c.redisUrl, { onError });
      const publisher = redis;
      const sub = pubsubConn;
      stops.push(async () => {
        sub.disconnect();
        publisher.disconnect();
      });
    }

    const demoOn = c.demo;
    let receiver: DemoReceiver | undefined;
    if (demoOn) {
      receiver = await startDemoReceiver(c.demoReceiverPort, '127.0.0.1').catch(() =>
        startDemoReceiver(0, '127.0.0.1'),
      );
      const r = receiver;
      stops.push(() => r.stop());
    }

    // Kafka, or the in-process event log (same contract tests; events live in memory until parked).
    let memoryLog: EventLog | undefined;
    if (!c.kafkaBrokers?.length) {
      const m = createMemoryEventLog({ log: log.child({ part: 'event-log' }) });
      memoryLog = m;
      stops.push(() => m.stop());
    }
    const streaming: NonNullable<StackOptions['streaming']> = {
      secretKey: c.streamingSecretKey ?? secrets!.streamingSecretKey,
      allowLoopbackSinks: c.allowLoopbackSinks,
      kafka: { brokers: c.kafkaBrokers ?? [], groupId: c.kafkaGroupId, topicPrefix: c.kafkaTopicPrefix },
      ...(memoryLog ? { eventLog: memoryLog } : {}),
    };
    const bootstrapAdmin = c.bootstrapAdmin ?? (demoOn ? { ...DEMO_ACCOUNTS.admin } : undefined);
    const stack = await startStack({
      databaseUrl,
      contextSecret: c.contextSecret ?? secrets!.contextSecret,
      log,
      host: c.host,
      routerPort: c.port,
      subgraphPorts: c.subgraphPorts,
      production: c.production,
      ...(c.mapStyleUrl ? { mapStyleUrl: c.mapStyleUrl } : {}),
      auth: {
        cognito,
        ...(redis ? { redis } : {}),
        ...(bootstrapAdmin ? { bootstrapAdmin } : {}),
      },
      ...(redis && pubsubConn ? { pubsub: createRedisPubSub({ publisher: redis, subscriber: pubsubConn }) } : {}),
      streaming,
      ...(c.retention ? { retention: c.retention } : {}),
      ...(c.fleet ? { fleet: c.fleet } : {}),
    });
    stops.push(() => stack.stop());

    let demo: App['demo'];
    if (demoOn && receiver) {
      const admin = bootstrapAdmin ?? DEMO_ACCOUNTS.admin;
      const state = await seedDemo({
        routerUrl: stack.routerUrl,
        receiverUrl: receiver.url,
        stateFile: join(dataDir, 'demo.json'),
        admin,
        log,
      });
      receiver.setSecrets([state.sink.secret]);
      let driver: DemoDriver | undefined;
      if (c.demoDriver ?? true) {
        const d = await startDemoDriver({ routerUrl: stack.routerUrl, account: DEMO_ACCOUNTS.member, log });
        driver = d;
        stops.push(() => d.stop()); // runs before the stack stops: the demo sessions are ended
      }
      demo = {
        accounts: { ...DEMO_ACCOUNTS, admin },
        configuredAdmin: c.bootstrapAdmin !== undefined,
        state,
        receiverUrl: receiver.url,
        receiver,
        ...(driver ? { driver } : {}),
      };
    }
    return {
      stack,
      routerUrl: stack.routerUrl,
      dashboardUrl: stack.routerUrl.replace(/\/graphql$/, '/dashboard'),
      parts: {
        postgres: pg ? 'embedded' : 'external',
        cognito: cognitoLocal ? 'embedded' : 'external',
        redis: redis ? 'external' : 'embedded',
        kafka: c.kafkaBrokers?.length ? 'external' : 'embedded',
      },
      ...(demo ? { demo } : {}),
      readyMs: Math.round(performance.now() - t0),
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
