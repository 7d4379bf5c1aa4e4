/** What other workspaces' tests reuse from the location subgraph's tests (`@lt/subgraph-location/testing`). */
export { retentionContract } from './retentionContract';
export { partitionContract } from './partitionContract';
export { geofenceContract, type GeofenceContractEnv } from './geofenceContract';
export { createUser } from './fixtures';
export { refold, saveSummary, fleetRules } from '../src/fleet/state';
export { emptyState, emptyTotals } from '../src/fleet/summary';
