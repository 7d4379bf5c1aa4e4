// The dedicated database of a location bench: created (or reused) and migrated with the repo's
// migrations through `setupDatabase`, as the services (lt_app) and owner roles.
import { createDb, setupDatabase, MIGRATIONS_DIR, type Db } from '@lt/db';

/** The context secret the benches sign with (never a deployment's). */
export const BENCH_CONTEXT_SECRET = 'bench-only-context-secret-0123456789abcdef';

/**
 * Sets up `database` (`migrationsDir`: another build's migrations) and returns its URLs, an
 * lt_app pool of `max` connections and a one-connection owner pool with `ownerTimeoutMs`.
 */
export async function benchDatabase(
  database: string,
  {
    max,
    ownerTimeoutMs,
    migrationsDir = MIGRATIONS_DIR,
  }: { max: number; ownerTimeoutMs: number; migrationsDir?: string },
): Promise<{ appUrl: string; ownerUrl: string; db: Db; owner: Db }> {
  const urls = await setupDatabase({
    adminUrl: process.env['ADMIN_DATABASE_URL'] ?? 'postgresql://postgres@127.0.0.1:5432/postgres',
    database,
    ownerPassword: process.env['DB_OWNER_PASSWORD'] ?? 'lt_owner_dev',
    appPassword: process.env['DB_APP_PASSWORD'] ?? 'lt_app_dev',
    migrationsDir,
  });
  return {
    appUrl: urls.appUrl,
    ownerUrl: urls.ownerUrl,
    db: createDb({ url: urls.appUrl, max }),
    owner: createDb({ url: urls.ownerUrl, max: 1, statementTimeoutMs: ownerTimeoutMs }),
  };
}
