// Runs the streaming subgraph alone: reads config, starts, stops on SIGTERM. The only file that does.
import { bool, commonConfig, int, list, loadConfig, secret, str, url } from '@lt/config';
import { createDb } from '@lt/db';
import { createLogger } from '@lt/logger';
import { runUntilSignal } from '@lt/server';
import { createStreamingSubgraph, parseEncryptionKey, startStreamingPipeline } from './createStreamingSubgraph';

const config = loadConfig(
  {
    ...commonConfig,
    DATABASE_URL: url({
      protocols: ['postgresql', 'postgres'],
      description: 'services role (lt_app) connection string',
    }),
    PORT: int({ default: 4004, min: 0, max: 65535, description: 'streaming subgraph port' }),
    HOST: str({ default: '127.0.0.1', description: 'interface to listen on' }),
    STREAMING_SECRET_KEY: secret({
      minLength: 44,
      description: '32-byte key (base64, or 64 hex chars) that encrypts the sinks’ signing secrets (AES-256-GCM)',
    }),
    KAFKA_BROKERS: list({
      optional: true,
      description: 'Kafka bootstrap brokers; set: run relay, consumers, dispatcher',
    }),
    KAFKA_TOPIC_PREFIX: str({ default: '', description: 'prefix of every Kafka topic name' }),
    STREAMING_CONSUMER_GROUP: str({
      default: 'streaming-webhooks',
      description: 'consumer group of the webhook consumers',
    }),
    STREAMING_RELAY: bool({ default: true, description: 'run the outbox relay in this process' }),
    SINK_ALLOW_LOOPBACK: bool({ default: false, description: 'development only: http:// and loopback sink URLs' }),
    SINK_ALLOW_LIST: list({ default: [], description: 'private addresses/subnets sinks may target anyway (CIDR)' }),
  },
  process.env,
);
const log = createLogger({ level: config.LOG_LEVEL, bindings: { service: 'streaming' } });
const db = createDb({ url: config.DATABASE_URL });
const secretKey = parseEncryptionKey(config.STREAMING_SECRET_KEY);
const urlPolicy = { allowLoopback: config.SINK_ALLOW_LOOPBACK, allowList: config.SINK_ALLOW_LIST };
const pipeline = config.KAFKA_BROKERS?.length
  ? await startStreamingPipeline({
      db,
      log,
      brokers: config.KAFKA_BROKERS,
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
  await db.$disconnect();
}, log);
