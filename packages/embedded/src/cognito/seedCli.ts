// Seeds a standalone cognito-local's data dir (scripts/services/cognito.sh, docker-compose.yml)
// with the same pool and client as the embedded one, and points its issuer at the served address.
//
//   tsx packages/embedded/src/cognito/seedCli.ts <workDir>
//   env: COGNITO_POOL_ID (local_supergraph), COGNITO_CLIENT_ID (supergraphlocalclient),
//        COGNITO_ISSUER_DOMAIN (http://127.0.0.1:9229)
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { seedCognito } from './seed';

const workDir = process.argv[2];
if (!workDir) {
  console.error('usage: tsx packages/embedded/src/cognito/seedCli.ts <workDir>');
  process.exit(2);
}
const cognitoDir = join(workDir, '.cognito');
mkdirSync(cognitoDir, { recursive: true });
// config.json: the issuer follows the address the server listens on; rewritten on every start.
const configFile = join(cognitoDir, 'config.json');
let config: Record<string, unknown> = {};
try {
  config = JSON.parse(readFileSync(configFile, 'utf8')) as Record<string, unknown>;
} catch (err) {
  if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
}
config['TokenConfig'] = {
  ...((config['TokenConfig'] as object | undefined) ?? {}),
  IssuerDomain: process.env['COGNITO_ISSUER_DOMAIN'] || 'http://127.0.0.1:9229',
};
config['UserPoolDefaults'] ??= { UsernameAttributes: ['email'] };
writeFileSync(configFile, `${JSON.stringify(config, null, 2)}\n`);

const done = seedCognito(
  join(cognitoDir, 'db'),
  process.env['COGNITO_POOL_ID'] || 'local_supergraph',
  process.env['COGNITO_CLIENT_ID'] || 'supergraphlocalclient',
);
console.log(done.length ? `seeded ${done.join(', ')}` : 'seed already present');
