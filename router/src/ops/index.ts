/** Ops endpoints and metrics of the router: /healthz, /readyz, /metrics. */
import type { Express } from 'express';
import type { ApolloServerPlugin } from '@apollo/server';
import type { RouterContext } from '../gateway/dataSource';
import type { Identity } from '../auth/createIdentity';
import { mountOps, type ReadinessCheck } from './endpoints';
import { RouterMetrics } from './metrics';
import { metricsPlugin } from './plugin';
import type { AttachedEngine } from '../subscriptions';

export { RouterMetrics } from './metrics';
export { metricsPlugin } from './plugin';
export { mountOps, type ReadinessCheck, type OpsOptions } from './endpoints';
export { addSubgraphChecks, subgraphHealthCheck, supergraphSubgraphUrls, SUBGRAPH_PROBE_TIMEOUT_MS } from './subgraphs';

export interface RouterOps {
  metrics: RouterMetrics;
  plugin: ApolloServerPlugin<RouterContext>;
  /** Pass as `createRouter({ extendApp })`. */
  mount: (app: Express) => void;
  /** Adds the identity path's cache gauges (call once the identity exists). */
  watchIdentity: (identity: Pick<Identity, 'memberships'>) => void;
  /** Adds the subscription engine's gauges (call once it is attached). */
  watchSubscriptions: (engine: Pick<AttachedEngine, 'stats'>) => void;
}

/** Metrics + ops endpoints, wired: `createIdentity({ onFailure: ops.metrics.authFailures.inc… })`. */
export function createRouterOps(checks: Record<string, ReadinessCheck>): RouterOps {
  const metrics = new RouterMetrics({ processMetrics: true });
  return {
    metrics,
    plugin: metricsPlugin(metrics),
    mount: (app) => mountOps(app, { metrics, checks }),
    watchIdentity(identity) {
      const s = identity.memberships.stats;
      metrics.gauge('router_membership_cache_hit_ratio', 'Membership lookups answered from a cache (L1 or Redis)', () =>
        identity.memberships.hitRatio(),
      );
      metrics.gauge('router_membership_cache_local_hits', 'Membership lookups answered in process', () => s.localHits);
      metrics.gauge('router_membership_cache_shared_hits', 'Membership lookups answered by Redis', () => s.sharedHits);
      metrics.gauge('router_membership_cache_misses', 'Membership lookups that went to Postgres', () => s.misses);
      metrics.gauge(
        'router_membership_store_failures',
        'Redis membership cache calls that failed (answered from Postgres)',
        () => s.storeFailures,
      );
    },
    watchSubscriptions(engine) {
      metrics.gauge('router_ws_connections', 'Open subscription WebSockets', () => engine.stats().connections);
      metrics.gauge('router_subscriptions', 'Live subscriptions', () => engine.stats().subscriptions);
      metrics.gauge(
        'router_subscription_sources',
        'Distinct upstream sources (identical subscriptions in one scope share one)',
        () => engine.stats().groups,
      );
      metrics.gauge(
        'router_live_results_from_event',
        'Live events served from their payload since start (no gateway re-read)',
        () => engine.stats().served.fromEvent,
      );
      metrics.gauge('router_live_rereads', 'Live gateway re-reads since start', () => engine.stats().served.reRead);
      metrics.gauge(
        'router_live_gap_markers',
        'Gap markers (LIVE_EVENTS_MISSED) queued to groups of live subscriptions since start',
        () => engine.stats().served.gaps,
      );
    },
  };
}
