/**
 * Cross-process pub/sub behind one interface (memory for one process, Redis for replicas) and the
 * one helper that names per-tenant channels. A generic transport of strings: what the channels
 * carry (the live-event contract) is @lt/events'.
 */
export type { PubSub } from './types';
export { createMemoryPubSub } from './memory';
export { createRedisPubSub, type RedisPubSubOptions } from './redis';
export { tenantChannel, type ChannelKind } from './channels';
export {
  createRedisConnection,
  createRedisSubscriber,
  redisConnectionOptions,
  isRedisUnavailableError,
  REDIS_COMMAND_TIMEOUT_MS,
  REDIS_SUBSCRIBE_TIMEOUT_MS,
  type RedisConnectionOptions,
} from './connection';
