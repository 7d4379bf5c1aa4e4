import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';
import { closeRawPool, createDb, type Db } from '@lt/db';
import { openIdentityBus, type IdentityInvalidation, type IdentityWatch, type OpenedIdentityBus } from '@lt/identity';
import type { Logger } from '@lt/logger';
import type { SubgraphServer } from '@lt/server';
import { createMemoryPubSub, type PubSub } from '@lt/pubsub';
import { createRouterApp, type Router, type RouterApp } from '@lt/router';
import type { AttachedEngine, SubscriptionLimits } from '@lt/router/subscriptions';
import type { Authenticator, Identity } from '@lt/router/auth';
import type { RouterOps } from '@lt/router/ops';
import { bootstrapPlatformAdmin, createAuthSubgraph, type AuthSubgraphDeps } from '@lt/subgraph-auth';
import { Cognito, type CognitoOptions } from '@lt/subgraph-auth/cognito';
import { createTenantSubgraph } from '@lt/subgraph-tenant';
import {
  createLocationSubgraph,
  startRetentionJob,
  type LocationSubgraphDeps,
  type RetentionJob,
} from '@lt/subgraph-location';
import {
  createStreamingSubgraph,
  parseEncryptionKey,
  startStreamingPipeline,
  type EventLog,
  type StreamingPipeline,
  type StreamingPipelineOptions,
} from '@lt/subgraph-streaming';
import { randomBytes } from 'node:crypto';

export interface StackOptions {
  /** Services' role connection string (lt_app). */
  databaseUrl: string;
  contextSecret: string;
  log: Logger;
  /** Router port; 0 = any free port. Default 0. */
  routerPort?: number;
  /** Subgraph ports by name; 0 (default) = any free port. */
  subgraphPorts?: Partial<Record<SubgraphName, number>>;
  host?: string;
  /** Verifies the router's callers instead of the Cognito path of `auth` (tests). */
  authenticator?: Authenticator;
  production?: boolean;
  /** Dashboard map style (MAP_STYLE_URL); unset: the built-in offline basemap. */
  mapStyleUrl?: string;
  /**
   * Identity changes (tenant suspension, user removal, logout) from subgraphs to the router.
   * Default: one bus shared by everything in this process, on `auth.redis` when given (other
   * replicas hear it too), else in memory.
   */
  identity?: IdentityInvalidation & IdentityWatch;
  /**
   * Real identity: Cognito (cognito-local or AWS) for the auth subgraph and the router's
   * token verification, plus Redis for the shared membership cache and login rate limits (both
   * optional: in-process stand-ins without it). Omitted: `authenticator` (default anonymous).
   */
  auth?: StackAuthOptions;
  /**
   * Live channels between the location subgraph and the router's subscription engine. Redis
   * (`createRedisPubSub`) lets several routers share them. Default: in-memory (one process).
   */
  pubsub?: PubSub;
  /** Subscription engine limits (tests use small ones). */
  subscriptionLimits?: SubscriptionLimits;
  /** Streaming: sink secrets, SSRF policy, and the Kafka pipeline when brokers are given. */
  streaming?: StackStreamingOptions;
  /**
   * Point retention job (POINT_RETENTION_MAX_DAYS, default 365; every 10 min). `false`: not run.
   * `maxDays` is also the longest `retentionDays` the tenant subgraph accepts.
   */
  retention?: { maxDays?: number; intervalMs?: number } | false;
  /** Fleet rules of the location subgraph (DEVICE_OFFLINE_AFTER_SECONDS, STOP_MIN_SECONDS, STOP_RADIUS_METERS). */
  fleet?: LocationSubgraphDeps['fleet'];
}

export interface StackStreamingOptions {
  /**
   * 32-byte key (base64 or hex) the sinks' secrets are encrypted with. Required in production;
   * otherwise a random per-process key is used (sinks' secrets do not survive a restart).
   */
  secretKey?: string;
  /** http + loopback sink URLs (local receivers). Default: on unless `production`. */
  allowLoopbackSinks?: boolean;
  /** Private addresses/subnets sinks may use anyway. */
  sinkAllowList?: string[];
  /** Starts the outbox relay, consumers and dispatcher in this process. Omitted: no pipeline. */
  kafka?: Omit<StreamingPipelineOptions, 'db' | 'log' | 'secretKey' | 'urlPolicy'>;
  /**
   * Runs the pipeline on this event log instead of Kafka brokers (`npm start` without KAFKA_BROKERS:
   * `createMemoryEventLog()`). The other pipeline settings come from `kafka` (its `brokers` are
   * ignored) or default to group `streaming-webhooks`. Owned by the caller: `stop()` leaves it running.
   */
  eventLog?: EventLog;
}

export interface StackAuthOptions {
  /** Pool, client, endpoint (omit for AWS); `issuer` overrides the expected `iss` (cognito-local). */
  cognito: CognitoOptions & { issuer?: string };
  /** Owned by the caller (not closed by `stop`). */
  redis?: Redis;
  /** Platform admin created on first start, idempotently (BOOTSTRAP_ADMIN_EMAIL/_PASSWORD). */
  bootstrapAdmin?: { email: string; password: string };
  /** Login rate limits (defaults: 10 per e-mail, 50 per client address, per 300 s). */
  loginLimits?: AuthSubgraphDeps['loginLimits'];
}

export type SubgraphName = 'auth' | 'tenant' | 'location' | 'streaming';

export interface Stack {
  db: Db;
  router: Router;
  routerUrl: string;
  subgraphUrls: Record<SubgraphName, string>;
  /** With `auth`: the router's identity path (authenticator, membership cache + stats). */
  routerIdentity?: Identity;
  /** With `auth`: the Cognito client the auth subgraph uses. */
  cognito?: Cognito;
  /** The router's metrics and readiness checks. */
  ops: RouterOps;
  /** The pub/sub the location subgraph publishes live events on (and this router listens to). */
  pubsub: PubSub;
  /** The identity bus (subgraphs publish, routers watch). */
  identity: IdentityInvalidation & IdentityWatch;
  /** The router's subscription engine (stats). */
  subscriptions: () => AttachedEngine | undefined;
  /** With `streaming.kafka`: the running outbox relay → Kafka → webhook pipeline. */
  streaming?: StreamingPipeline;
  /** Stops in order: router first (drains clients), then subgraphs, then the database pool. */
  stop(): Promise<void>;
}

const supergraphSdl = (): string => readFileSync(new URL('../../router/supergraph.graphql', import.meta.url), 'utf8');

/** Starts four subgraphs and a router wired to them, all in this process. */
export async function startStack(o: StackOptions): Promise<Stack> {
  const host = o.host ?? '127.0.0.1';
  const db = createDb({ url: o.databaseUrl });
  const deps = { db, contextSecret: o.contextSecret };
  // One identity bus for the whole process: the subgraphs publish on it, the router watches it.
  let ownedIdentity: OpenedIdentityBus | undefined;
  try {
    if (!o.identity) ownedIdentity = await openIdentityBus(o.auth?.redis ? { redis: o.auth.redis } : {});
  } catch (err) {
    await db.$disconnect();
    throw err;
  }
  const identity = o.identity ?? ownedIdentity!;
  const pubsub = o.pubsub ?? createMemoryPubSub();
  const cognito = o.auth ? new Cognito(o.auth.cognito) : undefined;
  const closeOwned = async (): Promise<void> => {
    await ownedIdentity?.close();
    await db.$disconnect();
    await closeRawPool(db);
  };
  if (cognito && o.auth?.bootstrapAdmin) {
    try {
      await bootstrapPlatformAdmin({ db, cognito, log: o.log.child({ service: 'auth' }), ...o.auth.bootstrapAdmin });
    } catch (err) {
      await closeOwned();
      throw err;
    }
  }
  const authDeps = {
    identity,
    ...(o.auth?.loginLimits ? { loginLimits: o.auth.loginLimits } : {}),
    ...(cognito ? { cognito } : {}),
    ...(o.auth?.redis ? { redis: o.auth.redis } : {}),
  };
  if (o.production && !o.streaming?.secretKey) {
    await closeOwned();
    throw new Error('startStack: streaming.secretKey is required in production');
  }
  const streamingKey = o.streaming?.secretKey ? parseEncryptionKey(o.streaming.secretKey) : randomBytes(32);
  const urlPolicy = {
    allowLoopback: o.streaming?.allowLoopbackSinks ?? !o.production,
    ...(o.streaming?.sinkAllowList ? { allowList: o.streaming.sinkAllowList } : {}),
  };
  const streamingLog = o.log.child({ service: 'streaming' });
  let pipeline: StreamingPipeline | undefined;
  const eventLog = o.streaming?.eventLog;
  if (o.streaming?.kafka || eventLog) {
    try {
      pipeline = await startStreamingPipeline({
        groupId: 'streaming-webhooks',
        ...o.streaming?.kafka,
        ...(eventLog ? { eventLog, brokers: undefined } : {}),
        db,
        log: streamingLog,
        secretKey: streamingKey,
        urlPolicy,
      });
    } catch (err) {
      await closeOwned();
      throw err;
    }
  }
  const subgraphs: Record<SubgraphName, SubgraphServer> = {
    auth: createAuthSubgraph({ ...deps, ...authDeps, log: o.log.child({ service: 'auth' }) }),
    tenant: createTenantSubgraph({
      ...deps,
      identity,
      ...(o.retention && o.retention.maxDays ? { maxRetentionDays: o.retention.maxDays } : {}),
      log: o.log.child({ service: 'tenant' }),
    }),
    location: createLocationSubgraph({
      ...deps,
      pubsub,
      ...(o.fleet ? { fleet: o.fleet } : {}),
      log: o.log.child({ service: 'location' }),
    }),
    streaming: createStreamingSubgraph({
      ...deps,
      log: streamingLog,
      secretKey: streamingKey,
      urlPolicy,
      ...(pipeline ? { pipeline } : {}),
    }),
  };
  const started: SubgraphServer[] = [];
  const subgraphUrls = {} as Record<SubgraphName, string>;
  const retention: RetentionJob | null =
    o.retention === false
      ? null
      : startRetentionJob(db, {
          maxDays: o.retention?.maxDays ?? 365,
          ...(o.retention?.intervalMs ? { intervalMs: o.retention.intervalMs } : {}),
          log: o.log.child({ service: 'location' }),
        });
  let routerApp: RouterApp | undefined;
  try {
    for (const [name, server] of Object.entries(subgraphs) as [SubgraphName, SubgraphServer][]) {
      const port = await server.start(o.subgraphPorts?.[name] ?? 0, host);
      started.push(server);
      subgraphUrls[name] = `http://${host}:${port}/graphql`;
    }
    routerApp = await createRouterApp({
      supergraphSdl: supergraphSdl(),
      subgraphUrls,
      contextSecret: o.contextSecret,
      log: o.log.child({ service: 'router' }),
      production: o.production ?? false,
      pubsub,
      db,
      identityBus: identity,
      ...(o.auth ? { cognito: o.auth.cognito } : {}),
      ...(o.auth?.redis ? { redis: o.auth.redis } : {}),
      ...(o.authenticator ? { authenticator: o.authenticator } : {}),
      subscriptionLog: o.log.child({ service: 'router-subscriptions' }),
      ...(o.subscriptionLimits ? { subscriptionLimits: o.subscriptionLimits } : {}),
      dashboard: o.mapStyleUrl ? { mapStyleUrl: o.mapStyleUrl } : {},
    });
    const app = routerApp;
    const port = await app.start(o.routerPort ?? 0, host);
    return {
      db,
      router: app.router,
      routerUrl: `http://${host}:${port}/graphql`,
      subgraphUrls,
      pubsub,
      identity,
      subscriptions: app.subscriptions,
      ...(app.identity ? { routerIdentity: app.identity } : {}),
      ...(cognito ? { cognito } : {}),
      ops: app.ops,
      ...(pipeline ? { streaming: pipeline } : {}),
      async stop() {
        await app.stop();
        await retention?.stop();
        await pipeline?.stop();
        await Promise.all(started.map((s) => s.stop()));
        await closeOwned();
      },
    };
  } catch (err) {
    await routerApp?.stop().catch(() => undefined);
    await retention?.stop();
    await pipeline?.stop().catch(() => undefined);
    await Promise.allSettled(started.map((s) => s.stop()));
    await closeOwned();
    throw err;
  }
}
