/**
 * Pre-seeds cognito-local's JSON files so the user pool and app client ids never change — the
 * same pool and client for the standalone server too (seedCli.ts, used by scripts/services/cognito.sh).
 * Idempotent: only ADDS what is missing (pool file, client entry) and keeps existing users.
 *
 * Layout read by cognito-local 5.3.0 (lib/services/cognitoService.js, dataStore/stormDb.js):
 *   <dbDir>/clients.json   { "Clients": { "<clientId>": { ClientId, UserPoolId, … } } }
 *   <dbDir>/<poolId>.json  { "Users": { … }, "Options": { Id, … } }
 * Keys ending in "Date" are ISO strings (revived to Date objects on load).
 */
import { createRequire } from 'node:module';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const require = createRequire(import.meta.url);

function readJson<T>(file: string, fallback: T): T {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return fallback;
    throw new Error(`${file}: ${(err as Error).message} (delete it to re-seed)`);
  }
}

function writeJson(file: string, value: unknown): void {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify(value, null, 2)}\n`);
  renameSync(tmp, file);
}

/** Returns what was added (empty when everything was already there). */
export function seedCognito(dbDir: string, poolId: string, clientId: string): string[] {
  mkdirSync(dbDir, { recursive: true });
  const done: string[] = [];
  const now = new Date().toISOString();
  const poolFile = join(dbDir, `${poolId}.json`);
  if (!existsSync(poolFile)) {
    // The pool defaults (full attribute schema, …) exactly as this cognito-local version builds them.
    const { USER_POOL_AWS_DEFAULTS } = require('cognito-local/lib/services/cognitoService.js') as {
      USER_POOL_AWS_DEFAULTS: Record<string, unknown>;
    };
    writeJson(poolFile, {
      Users: {},
      Options: {
        ...structuredClone(USER_POOL_AWS_DEFAULTS),
        Id: poolId,
        Name: 'location-supergraph-local',
        Arn: `arn:aws:cognito-idp:local:local:userpool/${poolId}`,
        CreationDate: now,
        LastModifiedDate: now,
        // E-mail addresses are the sign-in names (the stored Username is the `sub`).
        UsernameAttributes: ['email'],
        AutoVerifiedAttributes: ['email'],
        MfaConfiguration: 'OFF',
        Policies: {
          PasswordPolicy: {
            MinimumLength: 8,
            RequireUppercase: true,
            RequireLowercase: true,
            RequireNumbers: true,
            RequireSymbols: false,
            TemporaryPasswordValidityDays: 7,
          },
        },
        AdminCreateUserConfig: { AllowAdminCreateUserOnly: false, UnusedAccountValidityDays: 7 },
      },
    });
    done.push(`pool ${poolId}`);
  }
  const clientsFile = join(dbDir, 'clients.json');
  const clients = readJson<{ Clients?: Record<string, unknown> }>(clientsFile, { Clients: {} });
  clients.Clients ??= {};
  if (!clients.Clients[clientId]) {
    clients.Clients[clientId] = {
      ClientId: clientId,
      ClientName: 'supergraph-local',
      UserPoolId: poolId,
      CreationDate: now,
      LastModifiedDate: now,
      ExplicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
      // Real Cognito's defaults: 60 min access/id tokens, 30 day refresh tokens.
      AccessTokenValidity: 60,
      IdTokenValidity: 60,
      RefreshTokenValidity: 30,
      TokenValidityUnits: { AccessToken: 'minutes', IdToken: 'minutes', RefreshToken: 'days' },
      EnableTokenRevocation: true,
      PreventUserExistenceErrors: 'ENABLED',
      SupportedIdentityProviders: ['COGNITO'],
    };
    writeJson(clientsFile, clients);
    done.push(`client ${clientId}`);
  }
  return done;
}
