/**
 * cognito-local 5.3.0 in this process. Its own entry (`createDefaultServer`) reads `./.cognito`
 * relative to the working directory and the port from process.env; this builds the same services
 * (mirroring lib/server/defaults.js) with an absolute data directory, a silent logger, and an
 * issuer that names the address actually bound (so port 0 works).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { seedCognito } from './seed';

export interface EmbeddedCognitoOptions {
  /** Holds `db/<poolId>.json` (users: plain-text passwords, development only) and `db/clients.json`. */
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
  port: number;
  /** What seeding added on this start (empty when the data dir was already seeded). */
  seeded: string[];
  stop(): Promise<void>;
}

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
    tokenGenerator: new JwtTokenGenerator(clock, triggers, tokenConfig),
    triggers,
  };
  const app = createServer(Router(all), logger, { port: o.port ?? 9229, hostname: host, https: false }, all)
    .application as http.RequestListener;

  const server = http.createServer(app);
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
    port,
    seeded,
    async stop() {
      const closed = new Promise<void>((ok) => server.close(() => ok()));
      server.closeAllConnections();
      await closed;
    },
  };
}
