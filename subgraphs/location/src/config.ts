// The location process's configuration: every variable with its parser, default and meaning.
// index.ts loads it from process.env; tests check deployment files (docker-compose.yml) against it.
import { commonConfig, int, str, url } from '@lt/config';

export const locationConfigSpec = {
  ...commonConfig,
  DATABASE_URL: url({
    protocols: ['postgresql', 'postgres'],
    description: 'services role (lt_app) connection string',
  }),
  REDIS_URL: {
    ...url({
      protocols: ['redis', 'rediss'],
      description: 'live pub/sub for router fan-out (no live events without it)',
    }),
    optional: true as const,
  },
  PORT: int({ default: 4003, min: 0, max: 65535, description: 'location subgraph port' }),
  HOST: str({ default: '127.0.0.1', description: 'interface to listen on' }),
  GEOFENCES_MAX_PER_TENANT: int({
    default: 10_000,
    min: 1,
    max: 1_000_000,
    description: 'geofences a tenant may hold (createGeofence answers CONFLICT beyond it)',
  }),
};
