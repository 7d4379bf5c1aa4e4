import { readFileSync } from 'node:fs';
import { createSubgraphServer, type SubgraphServer } from '@lt/server';
import type { StreamingSubgraphDeps } from './deps';
import { createResolvers } from './resolvers';

export type { StreamingSubgraphDeps } from './deps';

/** The streaming subgraph's SDL, composed via supergraph.yaml. */
export const streamingTypeDefs = readFileSync(new URL('../schema.graphql', import.meta.url), 'utf8');

/** Builds the streaming subgraph from injected dependencies; `index.ts` runs it. */
export function createStreamingSubgraph(deps: StreamingSubgraphDeps): SubgraphServer {
  const sinks = {
    db: deps.db,
    secretKey: deps.secretKey,
    urlPolicy: deps.urlPolicy,
    secretGraceMs: deps.secretGraceMs ?? 86_400_000,
    wake: () => deps.pipeline?.dispatcher.wake(),
  };
  return createSubgraphServer({
    name: 'streaming',
    typeDefs: streamingTypeDefs,
    resolvers: createResolvers({ ...deps, sinks }),
    contextSecret: deps.contextSecret,
    log: deps.log,
    ...(deps.readiness ? { readiness: deps.readiness } : {}),
  });
}

export { startStreamingPipeline, type StreamingPipeline, type StreamingPipelineOptions } from './pipeline';
export {
  createKafkaEventLog,
  createMemoryEventLog,
  type EventLog,
  type KafkaEventLogOptions,
  type MemoryEventLogOptions,
} from './eventLog';
export { encryptSecret, generateSecret, parseEncryptionKey } from './crypto/secrets';
export { topicNames, type TopicNames } from './kafka/client';
export {
  createOutboxRelay,
  groupByTopic,
  type ClaimedRow,
  type OutboxRelay,
  type OutboxRelayOptions,
} from './relay/outboxRelay';
export type { UrlPolicy } from './delivery/urlPolicy';
