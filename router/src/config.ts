// The router process's configuration: every variable with its parser, default and meaning.
// index.ts loads it from process.env; tests check deployment files (docker-compose.yml) against it.
import { commonConfig, int, optionalUrl, str } from '@lt/config';

export const routerConfigSpec = {
  ...commonConfig,
  PORT: int({ default: 4000, min: 0, max: 65535, description: 'router port' }),
  HOST: str({ default: '127.0.0.1', description: 'interface to listen on' }),
  SUPERGRAPH_PATH: str({
    default: new URL('../supergraph.graphql', import.meta.url).pathname,
    description: 'composed supergraph SDL',
  }),
  DATABASE_URL: optionalUrl(
    'postgres',
    'services role (lt_app); membership lookups by Cognito sub (required with COGNITO_USER_POOL_ID)',
  ),
  REDIS_URL: optionalUrl(
    'redis',
    'shared membership cache, revocations and identity events; without it: in process only',
  ),
  COGNITO_USER_POOL_ID: str({ optional: true, description: 'Cognito pool; unset = every caller anonymous' }),
  COGNITO_CLIENT_ID: str({ optional: true, description: 'app client whose access tokens are accepted' }),
  COGNITO_ENDPOINT: optionalUrl('http', 'cognito-local (e.g. http://127.0.0.1:9229); unset = AWS Cognito'),
  COGNITO_ISSUER: optionalUrl('http', 'expected iss (default <endpoint>/<pool>)'),
  AUTH_URL: optionalUrl('http', 'auth subgraph URL (default: routing_url in supergraph.yaml)'),
  TENANT_URL: optionalUrl('http', 'tenant subgraph URL'),
  LOCATION_URL: optionalUrl('http', 'location subgraph URL'),
  STREAMING_URL: optionalUrl('http', 'streaming subgraph URL'),
  MAP_STYLE_URL: optionalUrl(
    'http',
    'dashboard map: MapLibre style URL or raster tile template ({z}/{x}/{y}); unset = offline basemap',
  ),
  BODY_LIMIT: str({ default: '1mb', description: 'max request body (express size string)' }),
  LIMIT_MAX_DEPTH: int({ default: 12, min: 1, description: 'max selection depth' }),
  LIMIT_MAX_ALIASES: int({ default: 30, min: 0, description: 'max aliases per operation' }),
  LIMIT_MAX_ROOT_FIELDS: int({ default: 20, min: 1, description: 'max root fields per operation' }),
};
