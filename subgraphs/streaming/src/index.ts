// Runs the streaming subgraph alone: reads config, starts, stops on SIGTERM. The only file that does.
import { loadConfig } from '@lt/config';
import { closeRawPool, createDb } from '@lt/db';
import { createLogger, logFormat } from '@lt/logger';
import { runUntilSignal } from '@lt/server';
import {
  createStreamingSubgraph,
  parseEncryptionKey,
  startStreamingPipeline,
  type StreamingPipeline,
} from './createStreamingSubgraph';
import { streamingConfigSpec } from './config';
import { createMemoryEventLog } from './eventLog';

const config = loadConfig(streamingConfigSpec, process.env);
const log = createLogger({
  level: config.LOG_LEVEL,
  format: logFormat(config.LOG_FORMAT, config.NODE_ENV === 'production'),
  bindings: { service: 'streaming' },
});
const db = createDb({ url: config.DATABASE_URL });
const secretKey = parseEncryptionKey(config.STREAMING_SECRET_KEY);
const urlPolicy = { allowLoopback: config.SINK_ALLOW_LOOPBACK, allowList: config.SINK_ALLOW_LIST };
// With Kafka: relay → Kafka → consumers, shared by every replica. Without it, the relay feeds an
// in-process log in this process (what it held at a stop is republished at the next start); relays
// of several replicas still take turns on the outbox and any dispatcher delivers what was parked.
const kafka = Boolean(config.KAFKA_BROKERS?.length);
if (!kafka && !config.STREAMING_RELAY)
  log.warn('KAFKA_BROKERS not set and STREAMING_RELAY=false: this process runs no webhook pipeline');
else if (!kafka) log.warn('KAFKA_BROKERS not set: webhooks run on an in-process event log (use Kafka in production)');
const runsPipeline = kafka || config.STREAMING_RELAY;
// The server listens first: /healthz (liveness) answers at once, /readyz says 'starting' until the
// pipeline's consumer has joined its group (which can take a while after a restart).
let pipeline: StreamingPipeline | undefined;
const server = createStreamingSubgraph({
  db,
  log,
  contextSecret: config.ROUTER_CONTEXT_SECRET,
  secretKey,
  urlPolicy,
  ...(runsPipeline
    ? {
        pipeline: {
          dispatcher: { wake: () => pipeline?.dispatcher.wake() },
          status: async () => (pipeline ? pipeline.status() : { brokerReachable: false, consumerLag: [] }),
        },
      }
    : {}),
  readiness: {
    postgres: async () => void (await db.$queryRaw`SELECT 1`),
    ...(runsPipeline
      ? {
          pipeline: async () => {
            if (!pipeline) throw new Error('starting');
          },
          ...(kafka
            ? {
                kafka: async () => {
                  if (!pipeline) throw new Error('starting');
                  if (!(await pipeline.status()).brokerReachable) throw new Error('broker unreachable');
                },
              }
            : {}),
        }
      : {}),
  },
});
const port = await server.start(config.PORT, config.HOST);
log.info('listening', { url: `http://${config.HOST}:${port}/graphql`, pipeline: runsPipeline });
if (runsPipeline) {
  try {
    pipeline = await startStreamingPipeline({
      db,
      log,
      ...(kafka ? { brokers: config.KAFKA_BROKERS! } : { eventLog: createMemoryEventLog({ log }) }),
      groupId: config.STREAMING_CONSUMER_GROUP,
      topicPrefix: config.KAFKA_TOPIC_PREFIX,
      relay: config.STREAMING_RELAY,
      secretKey,
      urlPolicy,
    });
    log.info('pipeline running');
  } catch (err) {
    // Exit so the supervisor restarts the process (as before the server listened first).
    log.error('pipeline failed to start', { err });
    await server.stop();
    await db.$disconnect();
    process.exit(1);
  }
}
runUntilSignal(async () => {
  await server.stop();
  await pipeline?.stop();
  if (!kafka) await pipeline?.eventLog.stop();
  await closeRawPool(db);
  await db.$disconnect();
}, log);
