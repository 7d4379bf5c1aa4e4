/**
 * Cross-process pub/sub behind one interface (memory for one process, Redis for replicas), the
 * one helper that names per-tenant channels, and the live-event contract carried on them.
 */
export type { PubSub } from './types';
export { createMemoryPubSub } from './memory';
export { createRedisPubSub, type RedisPubSubOptions } from './redis';
export { tenantChannel, type ChannelKind } from './channels';
export {
  encodeLiveEvent,
  parseLiveEvent,
  LIVE_PAYLOAD_MAX_POINTS,
  type LiveEvent,
  type LivePoint,
  type LiveSessionState,
} from './live';
export {
  createRedisConnection,
  createRedisSubscriber,
  redisConnectionOptions,
  isRedisUnavailableError,
  REDIS_COMMAND_TIMEOUT_MS,
  REDIS_SUBSCRIBE_TIMEOUT_MS,
  type RedisConnectionOptions,
} from './connection';
