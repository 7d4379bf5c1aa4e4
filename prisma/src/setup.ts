import pg from 'pg';
import { applyMigrations, type MigrationResult } from './migrate';

export interface SetupDatabaseOptions {
  /** A superuser connection (creates roles and the database). E.g. postgresql://postgres@127.0.0.1:5432/postgres */
  adminUrl: string;
  /** Database to create (if missing) and migrate. */
  database: string;
  /** Owner role: owns the schema, runs migrations, NOSUPERUSER BYPASSRLS (for the SECURITY DEFINER paths). */
  ownerRole?: string;
  ownerPassword: string;
  /** Services' role: NOSUPERUSER NOBYPASSRLS, DML grants only. Migrations grant to `lt_app`. */
  appPassword: string;
  migrationsDir: string;
}

const ident = (s: string): string => {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(s)) throw new Error(`invalid identifier: ${s}`);
  return `"${s}"`;
};
const literal = (s: string): string => `'${s.replace(/'/g, "''")}'`;

/**
 * A role password as `DB_OWNER_PASSWORD` / `DB_APP_PASSWORD` must be: 8–128 characters, no control
 * characters, no leading or trailing space (what a shell or a `.env` file silently mangles).
 * Throws naming the variable; says nothing about the value.
 */
export function checkRolePassword(variable: string, value: string): void {
  const problem =
    value.length < 8 || value.length > 128
      ? 'must be 8–128 characters'
      : /\p{Cc}/u.test(value)
        ? 'must not contain control characters'
        : value !== value.trim()
          ? 'must not start or end with white space'
          : null;
  if (problem) throw new Error(`${variable} ${problem}`);
}

/**
 * Idempotently creates the two roles and the database, then applies migrations as the owner.
 * Returns the URLs to use: `ownerUrl` for migrations, `appUrl` for every service.
 */
export async function setupDatabase(
  o: SetupDatabaseOptions,
): Promise<MigrationResult & { ownerUrl: string; appUrl: string }> {
  const owner = o.ownerRole ?? 'lt_owner';
  checkRolePassword('DB_OWNER_PASSWORD', o.ownerPassword);
  checkRolePassword('DB_APP_PASSWORD', o.appPassword);
  const admin = new pg.Client({ connectionString: o.adminUrl, connectionTimeoutMillis: 5_000 });
  await admin.connect();
  try {
    // Roles are cluster-wide; creating them concurrently can race, so serialise.
    await admin.query('SELECT pg_advisory_lock(72707368)');
    const roles = await admin.query<{ rolname: string }>(
      `SELECT rolname FROM pg_roles WHERE rolname IN ($1, 'lt_app')`,
      [owner],
    );
    const have = new Set(roles.rows.map((r) => r.rolname));
    if (!have.has(owner)) await admin.query(`CREATE ROLE ${ident(owner)} LOGIN NOSUPERUSER BYPASSRLS NOCREATEROLE`);
    await admin.query(
      `ALTER ROLE ${ident(owner)} WITH LOGIN NOSUPERUSER BYPASSRLS PASSWORD ${literal(o.ownerPassword)}`,
    );
    if (!have.has('lt_app'))
      await admin.query(`CREATE ROLE lt_app LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE`);
    await admin.query(`ALTER ROLE lt_app WITH LOGIN NOSUPERUSER NOBYPASSRLS PASSWORD ${literal(o.appPassword)}`);
    const db = await admin.query(`SELECT 1 FROM pg_database WHERE datname = $1`, [o.database]);
    if (db.rowCount === 0) await admin.query(`CREATE DATABASE ${ident(o.database)} OWNER ${ident(owner)}`);
    await admin.query('SELECT pg_advisory_unlock(72707368)');
  } finally {
    await admin.end();
  }
  const base = new URL(o.adminUrl);
  const urlFor = (user: string, password: string): string => {
    const u = new URL(base.toString());
    u.username = user;
    u.password = password;
    u.pathname = `/${o.database}`;
    return u.toString();
  };
  const ownerUrl = urlFor(owner, o.ownerPassword);
  // The schema belongs to the owner (Postgres 15: public is owned by pg_database_owner = owner).
  const result = await applyMigrations(ownerUrl, o.migrationsDir);
  return { ...result, ownerUrl, appUrl: urlFor('lt_app', o.appPassword) };
}
