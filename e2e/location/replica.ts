/** A second router replica on the same subgraphs (and the same live pub/sub transport as given). */
import { readFileSync } from 'node:fs';
import type { IdentityWatch } from '@lt/identity';
import { createLogger } from '@lt/logger';
import type { PubSub } from '@lt/pubsub';
import type { Stack } from '@lt/app';
import { createRouterApp } from '@lt/router';
import type { Authenticator } from '@lt/router/auth';
import type { AttachedEngine, SubscriptionLimits } from '@lt/router/subscriptions';
import { testEnv } from '@lt/testing';

export interface Replica {
  url: string;
  engine: () => AttachedEngine | undefined;
  stop(): Promise<void>;
}

export async function startRouterReplica(
  stack: Stack,
  o: {
    authenticator: Authenticator;
    pubsub: PubSub;
    identityWatch?: IdentityWatch;
    limits?: SubscriptionLimits;
    now?: () => number;
  },
): Promise<Replica> {
  const app = await createRouterApp({
    supergraphSdl: readFileSync(new URL('../../router/supergraph.graphql', import.meta.url), 'utf8'),
    subgraphUrls: stack.subgraphUrls,
    contextSecret: testEnv().contextSecret,
    authenticator: o.authenticator,
    log: createLogger({ level: 'silent' }),
    pubsub: o.pubsub,
    ...(o.identityWatch ? { identityBus: o.identityWatch } : {}),
    ...(o.limits ? { subscriptionLimits: o.limits } : {}),
    ...(o.now ? { now: o.now } : {}),
  });
  const port = await app.start(0, '127.0.0.1');
  return { url: `http://127.0.0.1:${port}/graphql`, engine: app.subscriptions, stop: () => app.stop() };
}
