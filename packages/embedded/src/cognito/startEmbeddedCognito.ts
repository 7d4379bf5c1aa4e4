/**
 * cognito-local 5.3.0 in this process. Its own entry (`createDefaultServer`) reads `./.cognito`
 * relative to the working directory and the port from process.env; this builds the same services
 * (mirroring lib/server/defaults.js) with an absolute data directory, a silent logger, and an
 * issuer that names the address actually bound (so port 0 works).
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { seedCognito } from './seed';

export interface EmbeddedCognitoOptions {
  /**
   * Holds `db/<poolId>.json` (users: plain-text passwords, development only), `db/clients.json`
   * and `signing-key.pem` (the RSA key tokens are signed with, generated on first start, mode 600).
   */
  dataDir: string;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 9229 (cognito-local's); 0 = any free port. */
  port?: number;
  /** Default `local_supergraph` (as scripts/services/cognito.sh). */
  userPoolId?: string;
  /** Default `supergraphlocalclient`: public, USER_PASSWORD_AUTH + REFRESH_TOKEN_AUTH. */
  clientId?: string;
}

export interface EmbeddedCognito {
  /** For the AWS SDK's `endpoint` (region: any, e.g. us-east-1; credentials: any). */
  endpoint: string;
  userPoolId: string;
  clientId: string;
  /** The tokens' `iss`; the JWKS is at `${issuer}/.well-known/jwks.json`. */
  issuer: string;
  /** `kid` of the data directory's signing key (the only key in the JWKS). */
  keyId: string;
  port: number;
  /** What seeding added on this start (empty when the data dir was already seeded). */
  seeded: string[];
  stop(): Promise<void>;
}

/**
 * The data directory's own RSA signing key. cognito-local signs with a key pair bundled in its
 * package (public in node_modules: anyone could mint tokens for it); this one is generated on
 * first start and never leaves the directory.
 */
function signingKey(dir: string): { privateKey: KeyObject; jwk: Record<string, string>; kid: string } {
  const file = join(dir, 'signing-key.pem');
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    mkdirSync(dir, { recursive: true });
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    try {
      writeFileSync(file, pem, { mode: 0o600, flag: 'wx' });
    } catch (e) {
      // Another start wrote it first: use that one.
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      pem = readFileSync(file, 'utf8');
    }
  }
  const privateKey = createPrivateKey(pem);
  const { n, e } = createPublicKey(privateKey).export({ format: 'jwk' }) as { n: string; e: string };
  // RFC 7638 thumbprint: a kid that names this key, never cognito-local's bundled "CognitoLocal".
  const kid = createHash('sha256')
    .update(JSON.stringify({ e, kty: 'RSA', n }))
    .digest('base64url')
    .slice(0, 22);
  return { privateKey, jwk: { kty: 'RSA', n, e, alg: 'RS256', use: 'sig', kid }, kid };
}

/** Re-signs a JWT cognito-local produced (same header fields and claims) with `key` as `kid`. */
function resign(token: string, key: KeyObject, kid: string): string {
  const [h, p] = token.split('.');
  const header = { ...(JSON.parse(Buffer.from(h!, 'base64url').toString()) as Record<string, unknown>), kid };
  const input = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${p}`;
  return `${input}.${sign('sha256', Buffer.from(input), key).toString('base64url')}`;
}

const JWKS_PATH = /^\/[^/?]+\/\.well-known\/jwks\.json(?:\?.*)?$/;

// cognito-local is CommonJS without an exports map: its internals load by path.
const require = createRequire(import.meta.url);
const lib = (path: string): Record<string, unknown> => require(`cognito-local/lib/${path}`) as Record<string, unknown>;
type Ctor = new (...args: unknown[]) => unknown;

/** Starts cognito-local in-process with a pre-seeded pool and client (ids stable across restarts). */
export async function startEmbeddedCognito(o: EmbeddedCognitoOptions): Promise<EmbeddedCognito> {
  const host = o.host ?? '127.0.0.1';
  const userPoolId = o.userPoolId ?? 'local_supergraph';
  const clientId = o.clientId ?? 'supergraphlocalclient';
  const dbDir = join(resolve(o.dataDir), 'db');
  const seeded = seedCognito(dbDir, userPoolId, clientId);
  const key = signingKey(resolve(o.dataDir));

  // pino, as cognito-local's request logging (pino-http) expects; silent: it would log bodies.
  const pino = createRequire(require.resolve('cognito-local'))('pino') as (o: { level: string }) => unknown;
  const logger = pino({ level: 'silent' });
  const ctx = { logger };

  const services = lib('services/index.js');
  const { CognitoServiceFactoryImpl } = lib('services/cognitoService.js') as { CognitoServiceFactoryImpl: Ctor };
  const { StormDBDataStoreFactory } = lib('services/dataStore/stormDb.js') as { StormDBDataStoreFactory: Ctor };
  const { UserPoolServiceFactoryImpl } = lib('services/userPoolService.js') as { UserPoolServiceFactoryImpl: Ctor };
  const { MessageDeliveryService } = lib('services/messageDelivery/messageDelivery.js') as {
    MessageDeliveryService: Ctor;
  };
  const { otp } = lib('services/otp.js');
  const { JwtTokenGenerator } = lib('services/tokenGenerator.js') as { JwtTokenGenerator: Ctor };
  const { DefaultConfig } = lib('server/config.js') as { DefaultConfig: Record<string, unknown> };
  const { Router } = lib('server/Router.js') as { Router: (s: unknown) => unknown };
  const { createServer } = lib('server/server.js') as {
    createServer: (router: unknown, logger: unknown, options: unknown, services: unknown) => { application: unknown };
  };

  // The issuer is read at signing time (tokenGenerator.js), so it can be set once the port is known.
  const tokenConfig = { IssuerDomain: `http://${host}:${o.port ?? 9229}` };
  const clock = new (services['DateClock'] as Ctor)();
  const dataStoreFactory = new StormDBDataStoreFactory(dbDir);
  const cognitoServiceFactory = new CognitoServiceFactoryImpl(
    dbDir,
    dataStoreFactory,
    new UserPoolServiceFactoryImpl(clock, dataStoreFactory),
  ) as { create(ctx: unknown, defaults: unknown): Promise<unknown> };
  const cognito = await cognitoServiceFactory.create(ctx, { UsernameAttributes: ['email'] });
  // No Lambda triggers and no KMS here, so neither AWS SDK v2 client is needed (nor loaded).
  const triggers = new (services['TriggersService'] as Ctor)(
    clock,
    cognito,
    new (services['LambdaService'] as Ctor)({}, {}),
    {},
  );
  // Confirmation codes are not printed (cognito-local's console sender would print them):
  // development flows use AdminConfirmSignUp / AdminCreateUser instead.
  const silentSender = { sendEmail: async () => undefined, sendSms: async () => undefined };
  const all = {
    clock,
    cognito,
    config: { ...DefaultConfig, TokenConfig: tokenConfig },
    messages: new (services['MessagesService'] as Ctor)(triggers, new MessageDeliveryService(silentSender)),
    otp,
    tokenGenerator: ownKeyTokens(new JwtTokenGenerator(clock, triggers, tokenConfig), key),
    triggers,
  };
  const app = createServer(Router(all), logger, { port: o.port ?? 9229, hostname: host, https: false }, all)
    .application as http.RequestListener;

  // The JWKS names this directory's key only (cognito-local's route would serve the bundled one).
  const jwks = JSON.stringify({ keys: [key.jwk] });
  const server = http.createServer((req, res) => {
    if (req.method === 'GET' && JWKS_PATH.test(req.url ?? '')) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(jwks);
      return;
    }
    app(req, res);
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(o.port ?? 9229, host, () => {
      server.off('error', fail);
      ok();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const endpoint = `http://${host}:${port}`;
  tokenConfig.IssuerDomain = endpoint;
  return {
    endpoint,
    userPoolId,
    clientId,
    issuer: `${endpoint}/${userPoolId}`,
    keyId: key.kid,
    port,
    seeded,
    async stop() {
      const closed = new Promise<void>((ok) => server.close(() => ok()));
      server.closeAllConnections();
      await closed;
    },
  };
}

type Tokens = { AccessToken: string; IdToken: string; RefreshToken: string };

/** cognito-local's token generator, its tokens re-signed with the data directory's key. */
function ownKeyTokens(generator: unknown, key: { privateKey: KeyObject; kid: string }): unknown {
  const g = generator as { generate(...args: unknown[]): Promise<Tokens> };
  const generate = g.generate.bind(g);
  g.generate = async (...args: unknown[]) => {
    const t = await generate(...args);
    return {
      AccessToken: resign(t.AccessToken, key.privateKey, key.kid),
      IdToken: resign(t.IdToken, key.privateKey, key.kid),
      RefreshToken: resign(t.RefreshToken, key.privateKey, key.kid),
    };
  };
  return g;
}
