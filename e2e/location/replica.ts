/** A second router replica on the same subgraphs (and the same live pub/sub transport as given). */
import { readFileSync } from 'node:fs';
import type { IdentityWatch } from '@lt/identity';
import { createLogger } from '@lt/logger';
import type { PubSub } from '@lt/pubsub';
import { assembleRouter } from '@lt/router/assemble';
import type { Authenticator } from '@lt/router/auth';
import type { AttachedEngine, SubscriptionLimits } from '@lt/router/subscriptions';
import type { Stack } from '@lt/app';
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
  const { router, subscriptions } = assembleRouter({
    supergraphSdl: readFileSync(new URL('../../router/supergraph.graphql', import.meta.url), 'utf8'),
    subgraphUrls: stack.subgraphUrls,
    contextSecret: testEnv().contextSecret,
    authenticator: o.authenticator,
    log: createLogger({ level: 'silent' }),
    pubsub: o.pubsub,
    ...(o.identityWatch ? { identityWatch: o.identityWatch } : {}),
    ...(o.limits ? { subscriptionLimits: o.limits } : {}),
    ...(o.now ? { now: o.now } : {}),
  });
  const port = await router.start(0, '127.0.0.1');
  return { url: `http://127.0.0.1:${port}/graphql`, engine: subscriptions, stop: () => router.stop() };
}
