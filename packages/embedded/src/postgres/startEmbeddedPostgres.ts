import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { applyMigrations, type MigrationResult, MIGRATIONS_DIR } from '@lt/db';
import type { Logger } from '@lt/logger';
import { startWireServer, type WireServerStats } from './wireServer';

export interface EmbeddedPostgresOptions {
  /** Where the cluster lives (created on first start, reused after). Omit for in-memory (tests). */
  dataDir?: string;
  /** Interface to listen on. Default 127.0.0.1. */
  host?: string;
  /** TCP port; 0 (default) = any free port. */
  port?: number;
  /** Migration folders in Prisma's layout. Default: the repository's prisma/migrations. */
  migrationsDir?: string;
  /** Warnings (a connection kept waiting for another one's transaction, see wireServer.ts). */
  log?: Pick<Logger, 'warn'>;
  /** After how long a waiting connection is reported to `log`, ms. Default 3_000. */
  slowWaitMs?: number;
}

export interface EmbeddedPostgres extends MigrationResult {
  /** The services' role (lt_app: NOSUPERUSER NOBYPASSRLS). Give this to `createDb`. */
  appUrl: string;
  /** The owner (lt_owner: owns the schema, BYPASSRLS for the SECURITY DEFINER functions). */
  ownerUrl: string;
  port: number;
  /** Start-up phases in ms: opening the data dir (initdb when fresh), migrations, total. */
  timings: { openMs: number; migrateMs: number; totalMs: number };
  /** Connections, turns and waits of the serialising wire server (see wireServer.ts). */
  stats(): WireServerStats;
  /** Closes every client connection (open transactions roll back), then the database. */
  stop(): Promise<void>;
}

const OWNER = 'lt_owner';
const APP = 'lt_app';
const DATABASE = 'postgres';
const DEFAULT_MIGRATIONS = MIGRATIONS_DIR;

/**
 * Postgres for a machine with nothing installed: PGlite (Postgres 18 in WebAssembly, in this
 * process) behind a small wire-protocol server, set up exactly like `setupDatabase` does on a real
 * server — roles `lt_owner` (BYPASSRLS) and `lt_app` (NOBYPASSRLS), the schema owned by the
 * owner, migrations applied by the same migrator with the same `_prisma_migrations` rows.
 *
 * Everything connects with ordinary connection strings (`createDb`, raw `pg` clients). The
 * server runs one transaction at a time (see wireServer.ts), so any pool size is correct; a
 * transaction that awaits a SECOND connection of its own would wait for itself until its timeout.
 */
export async function startEmbeddedPostgres(o: EmbeddedPostgresOptions = {}): Promise<EmbeddedPostgres> {
  const t0 = performance.now();
  if (o.dataDir) mkdirSync(o.dataDir, { recursive: true });
  const db = await PGlite.create(o.dataDir ? { dataDir: o.dataDir } : {});
  let server: Awaited<ReturnType<typeof startWireServer>> | undefined;
  try {
    // As the bootstrap superuser, before anyone connects: the two roles, and the database (hence
    // its `public` schema, owned by pg_database_owner) owned by lt_owner, as setupDatabase does.
    const have = await db.query<{ rolname: string }>(`SELECT rolname FROM pg_roles WHERE rolname IN ($1, $2)`, [
      OWNER,
      APP,
    ]);
    const names = new Set(have.rows.map((r) => r.rolname));
    if (!names.has(OWNER)) await db.exec(`CREATE ROLE ${OWNER} LOGIN NOSUPERUSER BYPASSRLS NOCREATEROLE`);
    await db.exec(`ALTER ROLE ${OWNER} WITH LOGIN NOSUPERUSER BYPASSRLS NOCREATEROLE NOCREATEDB`);
    if (!names.has(APP)) await db.exec(`CREATE ROLE ${APP} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE`);
    await db.exec(`ALTER ROLE ${APP} WITH LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE NOCREATEDB`);
    await db.exec(`ALTER DATABASE ${DATABASE} OWNER TO ${OWNER}`);
    const settings = await db.query<{ name: string; setting: string }>(
      `SELECT name, setting FROM pg_settings WHERE name IN ('server_version', 'TimeZone', 'DateStyle', 'IntervalStyle')`,
    );
    const openMs = performance.now() - t0;

    server = await startWireServer({
      db,
      roles: [OWNER, APP],
      ...(o.slowWaitMs !== undefined ? { slowWaitMs: o.slowWaitMs } : {}),
      ...(o.log
        ? {
            onSlowWait: (info) =>
              o.log?.warn('embedded postgres: a connection is waiting for another transaction', info),
          }
        : {}),
      host: o.host ?? '127.0.0.1',
      port: o.port ?? 0,
      parameters: {
        server_encoding: 'UTF8',
        client_encoding: 'UTF8',
        integer_datetimes: 'on',
        standard_conforming_strings: 'on',
        application_name: '',
        ...Object.fromEntries(settings.rows.map((r) => [r.name, r.setting])),
      },
    });
    const url = (user: string): string => `postgresql://${user}@${server!.host}:${server!.port}/${DATABASE}`;
    const ownerUrl = url(OWNER);
    const t1 = performance.now();
    const result = await applyMigrations(ownerUrl, o.migrationsDir ?? DEFAULT_MIGRATIONS);
    const t2 = performance.now();
    const running = server;
    return {
      ...result,
      appUrl: url(APP),
      ownerUrl,
      port: server.port,
      timings: { openMs: Math.round(openMs), migrateMs: Math.round(t2 - t1), totalMs: Math.round(t2 - t0) },
      stats: () => running.stats(),
      async stop() {
        await running.stop();
        await db.close();
      },
    };
  } catch (err) {
    await server?.stop().catch(() => undefined);
    await db.close().catch(() => undefined);
    throw err;
  }
}
