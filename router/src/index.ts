// Runs the router alone: reads config, starts, stops on SIGTERM. The only router file that does.
import { readFileSync } from 'node:fs';
import { commonConfig, int, loadConfig, str } from '@lt/config';
import { createLogger } from '@lt/logger';
import { runUntilSignal } from '@lt/server';
import { anonymousAuthenticator } from './auth/types';
import { createRouter } from './createRouter';

const config = loadConfig(
  {
    ...commonConfig,
    PORT: int({ default: 4000, min: 0, max: 65535, description: 'router port' }),
    HOST: str({ default: '127.0.0.1', description: 'interface to listen on' }),
    SUPERGRAPH_PATH: str({
      default: new URL('../supergraph.graphql', import.meta.url).pathname,
      description: 'composed supergraph SDL',
    }),
  },
  process.env,
);
const log = createLogger({ level: config.LOG_LEVEL, bindings: { service: 'router' } });
const router = createRouter({
  supergraphSdl: readFileSync(config.SUPERGRAPH_PATH, 'utf8'),
  contextSecret: config.ROUTER_CONTEXT_SECRET,
  authenticator: anonymousAuthenticator,
  log,
  production: config.NODE_ENV === 'production',
});
const port = await router.start(config.PORT, config.HOST);
log.info('listening', { url: `http://${config.HOST}:${port}/graphql` });
runUntilSignal(() => router.stop(), log);
