/**
 * Identity changes that must reach every router replica within seconds (README, "How a request is
 * trusted"): cached
 * memberships dropped, HTTP requests refused, open WebSockets closed. Subgraphs announce changes
 * through {@link IdentityInvalidation}; routers listen with {@link IdentityWatch}.
 * Implementations: in-memory (one process) and Redis (pub/sub + keys), same contract tests.
 */
export type { IdentityEvent, IdentityInvalidation, IdentityWatch } from './types';
export { createMemoryIdentityBus } from './memory';
export {
  createRedisIdentityBus,
  SIGNED_OUT_TTL_SECONDS,
  type RedisIdentityBus,
  type RedisIdentityBusOptions,
} from './redis';
export { openIdentityBus, type OpenedIdentityBus, type OpenIdentityBusOptions } from './open';
export { identityKeys } from './keys';
export { parseIdentityEvent } from './event';
