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
  POINT_RETENTION_MAX_DAYS: int({
    default: 365,
    min: 1,
    max: 36500,
    description: 'points older than this are deleted for every tenant (tenants may keep less: retentionDays)',
  }),
  RETENTION_INTERVAL_SECONDS: int({
    default: 600,
    min: 10,
    max: 86400,
    description: 'how often the retention job deletes expired points',
  }),
  DEVICE_OFFLINE_AFTER_SECONDS: int({
    default: 600,
    min: 1,
    max: 604800,
    description: 'a device is online when seen within this',
  }),
  STOP_MIN_SECONDS: int({ default: 120, min: 1, max: 86400, description: 'shortest stop in session summaries' }),
  STOP_RADIUS_METERS: int({ default: 50, min: 1, max: 10000, description: 'radius a stop stays within' }),
  PORT: int({ default: 4003, min: 0, max: 65535, description: 'location subgraph port' }),
  HOST: str({ default: '127.0.0.1', description: 'interface to listen on' }),
  GEOFENCES_MAX_PER_TENANT: int({
    default: 10_000,
    min: 1,
    max: 1_000_000,
    description: 'geofences a tenant may hold (createGeofence answers CONFLICT beyond it)',
  }),
};
