/**
 * Embedded stand-ins for `npm start` on a machine with nothing installed: Postgres (PGlite behind a
 * transaction-serialising wire server, roles and RLS as on a real server) and Cognito
 * (cognito-local in this process, with a pre-seeded pool and client).
 */
export {
  startEmbeddedPostgres,
  type EmbeddedPostgres,
  type EmbeddedPostgresOptions,
} from './postgres/startEmbeddedPostgres';
export type { WireServerStats } from './postgres/wireServer';
export {
  startEmbeddedCognito,
  type EmbeddedCognito,
  type EmbeddedCognitoOptions,
} from './cognito/startEmbeddedCognito';
