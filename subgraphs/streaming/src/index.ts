// Runs the streaming subgraph alone: reads config, starts, stops on SIGTERM. The only file that does.
import { loadConfig } from '@lt/config';
import { createDb } from '@lt/db';
import { createLogger, logFormat } from '@lt/logger';
import { runUntilSignal } from '@lt/server';
import { createStreamingSubgraph, parseEncryptionKey, startStreamingPipeline } from './createStreamingSubgraph';
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
const pipeline =
  kafka || config.STREAMING_RELAY
    ? await startStreamingPipeline({
        db,
        log,
        ...(kafka ? { brokers: config.KAFKA_BROKERS! } : { eventLog: createMemoryEventLog({ log }) }),
        groupId: config.STREAMING_CONSUMER_GROUP,
        topicPrefix: config.KAFKA_TOPIC_PREFIX,
        relay: config.STREAMING_RELAY,
        secretKey,
        urlPolicy,
      })
    : undefined;
const server = createStreamingSubgraph({
  db,
  log,
  contextSecret: config.ROUTER_CONTEXT_SECRET,
  secretKey,
  urlPolicy,
  ...(pipeline ? { pipeline } : {}),
});
const port = await server.start(config.PORT, config.HOST);
log.info('listening', { url: `http://${config.HOST}:${port}/graphql`, pipeline: Boolean(pipeline) });
runUntilSignal(async () => {
  await server.stop();
  await pipeline?.stop();
  if (!kafka) await pipeline?.eventLog.stop();
  await db.$disconnect();
}, log);
