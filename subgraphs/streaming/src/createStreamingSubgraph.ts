import { readFileSync } from 'node:fs';
import type { Db } from '@lt/db';
import type { Logger } from '@lt/logger';
import { createSubgraphServer, type SubgraphServer } from '@lt/server';
import type { UrlPolicy } from './delivery/urlPolicy';
import type { StreamingStatusProbe } from './pipeline';
import { createResolvers } from './resolvers';
import { createSinkService } from './sinkService';

/** The streaming subgraph's SDL, composed via supergraph.yaml. */
export const streamingTypeDefs = readFileSync(new URL('../schema.graphql', import.meta.url), 'utf8');

export interface StreamingSubgraphDeps {
  db: Db;
  log: Logger;
  /** Shared with the router (ROUTER_CONTEXT_SECRET). */
  contextSecret: string;
  /** AES-256-GCM key (32 bytes) the sinks' signing secrets are encrypted with (STREAMING_SECRET_KEY). */
  secretKey: Buffer;
  /** Where sink URLs may point (SSRF policy). */
  urlPolicy: UrlPolicy;
  /** A rotated secret keeps verifying this long, ms. Default 24 h. */
  secretGraceMs?: number;
  /** The pipeline running in this process, if any: woken on new work, asked for broker status. */
  pipeline?: { dispatcher: { wake(): void }; status(): Promise<StreamingStatusProbe> };
  /** Readiness probes served on `/readyz` (e.g. postgres, pipeline, kafka). */
  readiness?: Record<string, () => Promise<void>>;
}

/** Builds the streaming subgraph from injected dependencies; `index.ts` runs it. */
export function createStreamingSubgraph(deps: StreamingSubgraphDeps): SubgraphServer {
  const sinks = createSinkService({
    db: deps.db,
    secretKey: deps.secretKey,
    urlPolicy: deps.urlPolicy,
    ...(deps.secretGraceMs !== undefined ? { secretGraceMs: deps.secretGraceMs } : {}),
    wake: () => deps.pipeline?.dispatcher.wake(),
  });
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
