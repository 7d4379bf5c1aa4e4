// Prisma CLI configuration (Prisma 7 keeps the URL out of schema.prisma).
// `prisma generate` needs no database; `prisma migrate deploy` uses MIGRATION_DATABASE_URL (owner role).
import { defineConfig } from 'prisma/config';

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: {
    url:
      process.env['MIGRATION_DATABASE_URL'] ??
      process.env['DATABASE_URL'] ??
      'postgresql://lt_owner@127.0.0.1:5432/location_supergraph',
  },
});
