// Runs the streaming subgraph alone: reads config, starts, stops on SIGTERM. The only file that does.
import { loadConfig } from '@lt/config';
import { createDb } from '@lt/db';
import { createLogger } from '@lt/logger';
import { runUntilSignal } from '@lt/server';
import { createStreamingSubgraph, parseEncryptionKey, startStreamingPipeline } from './createStreamingSubgraph';
import { streamingConfigSpec } from './config';

const config = loadConfig(streamingConfigSpec, process.env);
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
