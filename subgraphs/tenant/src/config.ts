// The tenant process's configuration: every variable with its parser, default and meaning.
// index.ts loads it from process.env; tests check deployment files (docker-compose.yml) against it.
import { commonConfig, int, str, url } from '@lt/config';

export const tenantConfigSpec = {
  ...commonConfig,
  DATABASE_URL: url({
    protocols: ['postgresql', 'postgres'],
    description: 'services role (lt_app) connection string',
  }),
  REDIS_URL: url({
    protocols: ['redis', 'rediss'],
    description: 'Redis the routers listen on for identity changes (tenant suspension)',
  }),
  POINT_RETENTION_MAX_DAYS: int({
    default: 365,
    min: 1,
    max: 36500,
    description: 'longest point retention a tenant may set (and the retention of tenants that set none)',
  }),
  PORT: int({ default: 4002, min: 0, max: 65535, description: 'tenant subgraph port' }),
  HOST: str({ default: '127.0.0.1', description: 'interface to listen on' }),
};
