import type { ApolloServerPlugin } from '@apollo/server';
import type { RouterContext } from '../gateway/dataSource';
import { OTHER, type RouterMetrics } from './metrics';

/**
 * Counts requests, latency and errors (by code) per operation. The operation label is the name of
 * the operation the document defines and the request ran; `anonymous` without one; `other` when
 * the client's `operationName` matched no operation (the raw name is never a label value).
 */
export function metricsPlugin(metrics: RouterMetrics): ApolloServerPlugin<RouterContext> {
  return {
    async requestDidStart() {
      const start = process.hrtime.bigint();
      return {
        async willSendResponse(rc) {
          const op = rc.operationName ?? (rc.request.operationName ? OTHER : 'anonymous');
          metrics.requests.inc(op);
          metrics.latency.observe(op, Number(process.hrtime.bigint() - start) / 1e9);
          const errors = rc.response.body.kind === 'single' ? (rc.response.body.singleResult.errors ?? []) : [];
          for (const e of errors) metrics.errors.inc(String(e.extensions?.['code'] ?? 'INTERNAL_SERVER_ERROR'));
        },
      };
    },
  };
}
