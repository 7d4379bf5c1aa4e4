// Pre-seeds cognito-local's JSON files so the user pool and app client ids are fixed.
// Used by scripts/services/cognito.sh before every start; idempotent: it only ADDS what is
// missing (pool file, client entry) and keeps existing users. config.json's TokenConfig is
// rewritten every time so the issuer always matches the address the server listens on.
//
//   node seed.mjs <workDir> <repoRoot>   (env: COGNITO_POOL_ID, COGNITO_CLIENT_ID, COGNITO_ISSUER_DOMAIN)
//
// Layout read by cognito-local 5.3.0 (lib/server/defaults.js, lib/services/cognitoService.js,
// lib/services/userPoolService.js, lib/services/dataStore/stormDb.js), relative to its cwd:
//   .cognito/config.json        merged over its DefaultConfig (TokenConfig, UserPoolDefaults, ...)
//   .cognito/db/clients.json    { "Clients": { "<clientId>": { ClientId, UserPoolId, ... } } }
//   .cognito/db/<poolId>.json   { "Users": { "<username>": {...} }, "Options": { Id, ... } }
// Every *.json in .cognito/db except clients.json is a pool; its file name is the pool id. Keys
// ending in "Date" must be ISO strings (they are revived to Date objects on load).
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const [workDir, repoRoot] = process.argv.slice(2);
if (!workDir || !repoRoot) {
  console.error('usage: node seed.mjs <workDir> <repoRoot>');
  process.exit(2);
}
const poolId = process.env.COGNITO_POOL_ID || 'local_supergraph';
const clientId = process.env.COGNITO_CLIENT_ID || 'supergraphlocalclient';
const issuerDomain = process.env.COGNITO_ISSUER_DOMAIN || 'http://127.0.0.1:9229';

const require = createRequire(path.join(path.resolve(repoRoot), 'package.json'));
// The pool defaults (full attribute schema, ...) exactly as this cognito-local version builds them.
const { USER_POOL_AWS_DEFAULTS } = require('cognito-local/lib/services/cognitoService.js');

const cognitoDir = path.join(workDir, '.cognito');
const dbDir = path.join(cognitoDir, 'db');
fs.mkdirSync(dbDir, { recursive: true });

const readJson = (file, fallback) => {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    if (e.code === 'ENOENT') return fallback;
    throw new Error(`${file}: ${e.message} (delete it to re-seed)`);
  }
};
const writeJson = (file, value) => {
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, `${JSON.stringify(value, null, 2)}\n`);
  fs.renameSync(tmp, file);
};
const now = new Date().toISOString();
const done = [];

// 1. config.json: issuer + defaults for pools created through the API.
const configFile = path.join(cognitoDir, 'config.json');
const config = readJson(configFile, {});
config.TokenConfig = { ...(config.TokenConfig ?? {}), IssuerDomain: issuerDomain };
config.UserPoolDefaults ??= { UsernameAttributes: ['email'] };
writeJson(configFile, config);

// 2. the user pool: e-mail addresses are the sign-in names (the stored Username is the `sub`).
const poolFile = path.join(dbDir, `${poolId}.json`);
if (!fs.existsSync(poolFile)) {
  writeJson(poolFile, {
    Users: {},
    Options: {
      ...structuredClone(USER_POOL_AWS_DEFAULTS),
      Id: poolId,
      Name: 'location-supergraph-local',
      Arn: `arn:aws:cognito-idp:local:local:userpool/${poolId}`,
      CreationDate: now,
      LastModifiedDate: now,
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

// 3. the app client (public: no secret).
const clientsFile = path.join(dbDir, 'clients.json');
const clients = readJson(clientsFile, { Clients: {} });
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

console.log(done.length ? `seeded ${done.join(', ')}` : 'seed already present');
