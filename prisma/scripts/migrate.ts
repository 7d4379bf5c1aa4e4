// `npm run db:migrate`: apply pending migrations offline as the owner (MIGRATION_DATABASE_URL).
// `npm run db:setup`: also create roles + database first (needs ADMIN_DATABASE_URL, a superuser).
import { applyMigrations, MIGRATIONS_DIR, setupDatabase } from '../src/index';

const env = process.env;

async function main(): Promise<void> {
  if (process.argv.includes('--setup')) {
    const r = await setupDatabase({
      adminUrl: env['ADMIN_DATABASE_URL'] ?? 'postgresql://postgres@127.0.0.1:5432/postgres',
      database: env['DATABASE_NAME'] ?? 'location_supergraph',
      ownerPassword: env['DB_OWNER_PASSWORD'] ?? 'lt_owner_dev',
      appPassword: env['DB_APP_PASSWORD'] ?? 'lt_app_dev',
      migrationsDir: MIGRATIONS_DIR,
    });
    console.log(
      JSON.stringify({ applied: r.applied, skipped: r.skipped.length, appUrl: r.appUrl.replace(/:[^:@/]+@/, ':***@') }),
    );
    return;
  }
  const url = env['MIGRATION_DATABASE_URL'];
  if (!url) throw new Error('MIGRATION_DATABASE_URL (the owner role) is required');
  const r = await applyMigrations(url, MIGRATIONS_DIR);
  console.log(JSON.stringify({ applied: r.applied, skipped: r.skipped.length }));
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
