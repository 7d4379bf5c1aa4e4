/** What the global setup provides to integration/e2e tests (through process.env). */
export interface TestEnv {
  /** Services' role (lt_app): RLS applies. */
  databaseUrl: string;
  /** Owner role: migrations only. */
  ownerDatabaseUrl: string;
  adminDatabaseUrl: string;
  redisUrl: string;
  kafkaBrokers: string[];
  cognitoEndpoint: string;
  cognitoUserPoolId: string;
  cognitoClientId: string;
  contextSecret: string;
}

function need(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run tests through "npm test" (vitest global setup sets it)`);
  return v;
}

export function testEnv(): TestEnv {
  return {
    databaseUrl: need('DATABASE_URL'),
    ownerDatabaseUrl: need('MIGRATION_DATABASE_URL'),
    adminDatabaseUrl: need('ADMIN_DATABASE_URL'),
    redisUrl: need('REDIS_URL'),
    kafkaBrokers: need('KAFKA_BROKERS').split(','),
    cognitoEndpoint: need('COGNITO_ENDPOINT'),
    cognitoUserPoolId: need('COGNITO_USER_POOL_ID'),
    cognitoClientId: need('COGNITO_CLIENT_ID'),
    contextSecret: need('ROUTER_CONTEXT_SECRET'),
  };
}
