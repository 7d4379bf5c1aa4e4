// `npm start`: creates/migrates the database, then runs the router and the four subgraphs in one
// process on the default ports (router 4000, subgraphs 4001–4004).
import { fileURLToPath } from 'node:url';
import { commonConfig, int, loadConfig, str } from '@lt/config';
import { setupDatabase } from '@lt/db';
import { createLogger } from '@lt/logger';
import { runUntilSignal } from '@lt/server';
import { startStack } from '@lt/stack';

const config = loadConfig(
  {
    ...commonConfig,
    ROUTER_CONTEXT_SECRET: {
      ...commonConfig.ROUTER_CONTEXT_SECRET,
      default: 'dev-only-context-secret-change-me-0123456789',
    },
    ADMIN_DATABASE_URL: str({
      default: 'postgresql://postgres@127.0.0.1:5432/postgres',
      description: 'superuser connection used once to create roles + database',
    }),
    DATABASE_NAME: str({ default: 'location_supergraph', description: 'database name' }),
    DB_OWNER_PASSWORD: str({ default: 'lt_owner_dev', description: 'owner role password', secret: true }),
    DB_APP_PASSWORD: str({ default: 'lt_app_dev', description: 'services role password', secret: true }),
    PORT: int({ default: 4000, min: 0, max: 65535, description: 'router port' }),
    HOST: str({ default: '127.0.0.1', description: 'interface to listen on' }),
  },
  process.env,
);
const log = createLogger({ level: config.LOG_LEVEL, bindings: { service: 'stack' } });
if (config.NODE_ENV !== 'production' && config.ROUTER_CONTEXT_SECRET.startsWith('dev-only')) {
  log.warn('using the development ROUTER_CONTEXT_SECRET; set your own outside development');
}
const db = await setupDatabase({
  adminUrl: config.ADMIN_DATABASE_URL,
  database: config.DATABASE_NAME,
  ownerPassword: config.DB_OWNER_PASSWORD,
  appPassword: config.DB_APP_PASSWORD,
  migrationsDir: fileURLToPath(new URL('../prisma/migrations', import.meta.url)),
});
log.info('database ready', { applied: db.applied });
const stack = await startStack({
  databaseUrl: db.appUrl,
  contextSecret: config.ROUTER_CONTEXT_SECRET,
  log,
  host: config.HOST,
  routerPort: config.PORT,
  subgraphPorts: { auth: 4001, tenant: 4002, location: 4003, streaming: 4004 },
  production: config.NODE_ENV === 'production',
});
log.info('ready', { router: stack.routerUrl, sandbox: stack.routerUrl.replace('/graphql', '/graphql') });
runUntilSignal(() => stack.stop(), log);
