// The auth process's configuration: every variable with its parser, default and meaning.
// index.ts loads it from process.env; tests check deployment files (docker-compose.yml) against it.
import { commonConfig, int, secret, str, url } from '@lt/config';

export const authConfigSpec = {
  ...commonConfig,
  DATABASE_URL: url({
    protocols: ['postgresql', 'postgres'],
    description: 'services role (lt_app) connection string',
  }),
  PORT: int({ default: 4001, min: 0, max: 65535, description: 'auth subgraph port' }),
  HOST: str({ default: '127.0.0.1', description: 'interface to listen on' }),
  REDIS_URL: url({
    protocols: ['redis', 'rediss'],
    optional: true,
    description: 'login rate limits + identity events to routers; without it: in process only',
  }),
  COGNITO_USER_POOL_ID: str({ default: 'local_supergraph', description: 'Cognito user pool' }),
  COGNITO_CLIENT_ID: str({ default: 'supergraphlocalclient', description: 'public app client (USER_PASSWORD_AUTH)' }),
  COGNITO_ENDPOINT: url({
    protocols: ['http', 'https'],
    optional: true,
    description: 'cognito-local, e.g. http://127.0.0.1:9229; unset = AWS (credentials from the environment)',
  }),
  COGNITO_REGION: str({ default: 'us-east-1', description: 'AWS region of the pool' }),
  COGNITO_TIMEOUT_MS: int({ default: 3_000, min: 100, description: 'deadline of each Cognito call, ms' }),
  INVITATION_TTL_SECONDS: int({ default: 7 * 24 * 3600, min: 60, description: 'invitation lifetime, s' }),
  LOGIN_LIMIT_PER_EMAIL: int({
    default: 10,
    min: 1,
    description: 'login attempts per e-mail, and refreshes per refresh token, per window',
  }),
  LOGIN_LIMIT_PER_ADDRESS: int({
    default: 50,
    min: 1,
    description: 'logins, refreshes and registrations (each counted apart) per client address per window',
  }),
  LOGIN_LIMIT_WINDOW_SECONDS: int({ default: 300, min: 1, description: 'login rate-limit window, s' }),
  BOOTSTRAP_ADMIN_EMAIL: str({ optional: true, description: 'platform admin created on first start (idempotent)' }),
  BOOTSTRAP_ADMIN_PASSWORD: secret({
    minLength: 8,
    optional: true,
    description: 'its password (Cognito policy: 8+, upper, lower, digit)',
  }),
};
