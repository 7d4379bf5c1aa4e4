// Runs the auth subgraph alone: reads config, starts, stops on SIGTERM. The only file that does.
import { commonConfig, int, loadConfig, str, url } from '@lt/config';
import { createDb } from '@lt/db';
import { createLogger } from '@lt/logger';
import { runUntilSignal } from '@lt/server';
import { createAuthSubgraph } from './createAuthSubgraph';

const config = loadConfig(
  {
    ...commonConfig,
    DATABASE_URL: url({
      protocols: ['postgresql', 'postgres'],
      description: 'services role (lt_app) connection string',
    }),
    PORT: int({ default: 4001, min: 0, max: 65535, description: 'auth subgraph port' }),
    HOST: str({ default: '127.0.0.1', description: 'interface to listen on' }),
  },
  process.env,
);
const log = createLogger({ level: config.LOG_LEVEL, bindings: { service: 'auth' } });
const db = createDb({ url: config.DATABASE_URL });
const server = createAuthSubgraph({ db, log, contextSecret: config.ROUTER_CONTEXT_SECRET });
const port = await server.start(config.PORT, config.HOST);
log.info('listening', { url: `http://${config.HOST}:${port}/graphql` });
runUntilSignal(async () => {
  await server.stop();
  await db.$disconnect();
}, log);
