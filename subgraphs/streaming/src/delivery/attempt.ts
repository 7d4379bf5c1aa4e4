import {
  BrokenCircuitError,
  CircuitState,
  ConsecutiveBreaker,
  circuitBreaker,
  handleAll,
  type CircuitBreakerPolicy,
} from 'cockatiel';
import type { StreamSinkModel } from '@lt/db';
import { decryptSecret } from '../crypto/secrets';
import { createAgents, postWebhook, type AttemptOutcome } from './httpPost';
import type { DeliveryPolicy } from './schedule';
import { webhookHeaders } from './signature';
import type { UrlPolicy } from './urlPolicy';

/** What both leases return about the sink of a leased delivery or batch. */
export interface LeasedSink {
  tenant_id: string;
  sink_id: string;
  url: string;
  secret_enc: string;
  previous_secret_enc: string | null;
  previous_secret_expires_at: Date | null;
  failing_since: Date | null;
}

export type BreakerState = 'closed' | 'open' | 'half-open' | 'isolated';

/** An attempt's result, or `circuit-open`: the sink's breaker refused it (no HTTP call made). */
export type Attempted = AttemptOutcome | { kind: 'circuit-open' };

/**
 * What the two dispatchers share for one attempt: a cockatiel circuit breaker per sink, the
 * signing secrets (the previous one too during a rotation's grace period), the signed POST through
 * the sink's breaker with the pinned-address policy and the attempt timeout, and the keep-alive
 * agents.
 */
export function createAttempter(o: { secretKey: Buffer; urlPolicy: UrlPolicy; policy: DeliveryPolicy }) {
  const breakers = new Map<string, CircuitBreakerPolicy>();
  const agents = createAgents();

  const breakerOf = (sinkId: string): CircuitBreakerPolicy => {
    let b = breakers.get(sinkId);
    if (!b) {
      b = circuitBreaker(handleAll, {
        halfOpenAfter: o.policy.breakerHalfOpenAfterMs,
        breaker: new ConsecutiveBreaker(o.policy.breakerThreshold),
      });
      breakers.set(sinkId, b);
    }
    return b;
  };

  function secretsOf(l: LeasedSink): string[] {
    const secrets = [decryptSecret(l.secret_enc, o.secretKey)];
    if (l.previous_secret_enc && l.previous_secret_expires_at && l.previous_secret_expires_at.getTime() > Date.now())
      secrets.push(decryptSecret(l.previous_secret_enc, o.secretKey));
    return secrets;
  }

  return {
    /** Signs `body` under `webhookId` and posts it to the sink, through the sink's breaker. */
    async post(l: LeasedSink, webhookId: string, body: string): Promise<Attempted> {
      const secrets = secretsOf(l);
      try {
        return await breakerOf(l.sink_id).execute(async () => {
          const headers = webhookHeaders(secrets, webhookId, body, Math.floor(Date.now() / 1000));
          const r = await postWebhook(l.url, { ...headers }, body, {
            timeoutMs: o.policy.attemptTimeoutMs,
            policy: o.urlPolicy,
            maxBodyBytes: o.policy.maxResponseBodyBytes,
            agents,
          });
          // The breaker counts failures by exceptions; 410 is an answer, not an outage.
          if (r.kind === 'failed' || r.kind === 'refused') throw new AttemptFailed(r);
          return r;
        });
      } catch (err) {
        if (err instanceof AttemptFailed) return err.outcome;
        if (err instanceof BrokenCircuitError) return { kind: 'circuit-open' };
        throw err;
      }
    },
    /** The breaker state of a sink in this process; undefined when it never had an attempt here. */
    breakerState(sinkId: string): BreakerState | undefined {
      const b = breakers.get(sinkId);
      if (!b) return undefined;
      switch (b.state) {
        case CircuitState.Closed:
          return 'closed';
        case CircuitState.Open:
          return 'open';
        case CircuitState.HalfOpen:
          return 'half-open';
        case CircuitState.Isolated:
          return 'isolated';
      }
    },
    close(): void {
      agents.http.destroy();
      agents.https.destroy();
    },
  };
}

/** The sink as recordOutcome reads it (a failure's rare path), from a leased row. */
export function sinkOf(l: LeasedSink): StreamSinkModel {
  return {
    id: l.sink_id,
    tenantId: l.tenant_id,
    url: l.url,
    status: 'ACTIVE',
    failingSince: l.failing_since,
  } as unknown as StreamSinkModel;
}

/** One attempter: what the batch dispatcher and the direct path share for batched sinks. */
export type Attempter = ReturnType<typeof createAttempter>;

class AttemptFailed extends Error {
  constructor(readonly outcome: Extract<AttemptOutcome, { kind: 'failed' | 'refused' }>) {
    super(outcome.error);
  }
}
