/**
 * What every subgraph shares: the server factory that refuses requests without a valid router
 * signature, the per-request context, role guards, the DateTime scalar and cursor helpers.
 */
export { createSubgraphServer, type SubgraphServer, type SubgraphServerOptions } from './createSubgraphServer';
export type { SubgraphContext } from './context';
export { requireMembership, requireTenantMember, requireRole, type TenantMembership } from './guards';
export { DateTimeScalar, parseDateTime } from './scalars';
export { encodeCursor, decodeCursor, decodeTimeIdCursor, clampFirst } from './cursor';
export { checkArguments, guardArguments, InvalidInput } from './inputGuard';
export { isUuid } from '@lt/context';
export { listen, stopServer } from './http';
export { runUntilSignal } from './run';
export { logUnexpectedErrors } from './logErrors';
export { loadBatched, byId } from './batch';
export { processMetrics } from './processMetrics';
export { probe } from './probe';
