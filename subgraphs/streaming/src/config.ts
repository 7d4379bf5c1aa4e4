// The streaming process's configuration: every variable with its parser, default and meaning.
// index.ts loads it from process.env; tests check deployment files (docker-compose.yml) against it.
import { bool, commonConfig, int, list, secret, str, url } from '@lt/config';

export const streamingConfigSpec = {
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
};
