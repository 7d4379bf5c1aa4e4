import { oneOf, secret, str, type ConfigOf } from './load';

/** Variables every service reads. */
export const commonConfig = {
  NODE_ENV: oneOf(['development', 'production', 'test'] as const, {
    default: 'development',
    description: 'production turns off introspection and the Sandbox landing page',
  }),
  LOG_LEVEL: oneOf(['debug', 'info', 'warn', 'error', 'silent'] as const, {
    default: 'info',
    description: 'minimum level of log lines written to stdout',
  }),
  LOG_FORMAT: oneOf(['auto', 'json', 'pretty'] as const, {
    default: 'auto',
    description: 'json lines, or pretty (readable) lines; auto = pretty on a terminal outside production',
  }),
  ROUTER_CONTEXT_SECRET: secret({
    minLength: 32,
    description: 'HMAC key (≥ 32 chars) the router signs the caller context with; subgraphs verify it',
  }),
  SERVICE_NAME: str({ default: 'location-supergraph', description: 'name put on every log line' }),
};

export type CommonConfig = ConfigOf<typeof commonConfig>;
