/** The webhook pipeline as the integration suites start it, on Kafka or on the in-process event log. */
import type { Db } from '@lt/db';
import type { Logger } from '@lt/logger';
import { testEnv, uniqueName } from '@lt/testing';
import { createMemoryEventLog, type EventLog } from '../../src/eventLog';
import { startStreamingPipeline, type StreamingPipeline } from '../../src/pipeline';

export type PipelineLog = { brokers: string[] } | { eventLog: EventLog };

/** The same suite on Kafka and on the in-process event log of `npm start`. */
export const eventLogImplementations = (log: Logger): { name: string; on: () => PipelineLog }[] => [
  { name: 'Kafka', on: () => ({ brokers: testEnv().kafkaBrokers }) },
  { name: 'the memory event log', on: () => ({ eventLog: createMemoryEventLog({ log }) }) },
];

/**
 * Starts the pipeline for `tenantIds` on `on` with its own consumer group and topics (`prefix`),
 * loopback receivers allowed, short retries and fast polls. The caller stops it.
 */
export function startTestPipeline(o: {
  db: Db;
  log: Logger;
  on: PipelineLog;
  prefix: string;
  secretKey: Buffer;
  attemptTimeoutMs: number;
  tenantIds: string[];
}): Promise<StreamingPipeline> {
  return startStreamingPipeline({
    db: o.db,
    log: o.log,
    ...o.on,
    groupId: uniqueName(`${o.prefix}-webhooks`),
    topicPrefix: uniqueName(o.prefix) + '.',
    secretKey: o.secretKey,
    urlPolicy: { allowLoopback: true },
    delivery: {
      retryScheduleMs: [30, 60],
      attemptTimeoutMs: o.attemptTimeoutMs,
      breakerThreshold: 4,
      breakerHalfOpenAfterMs: 60_000,
      maxInFlightPerSink: 4,
    },
    relayPollIntervalMs: 20,
    dispatcherPollIntervalMs: 50,
    tenantIds: o.tenantIds,
  });
}
