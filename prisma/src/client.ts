import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../generated/client';

export type Db = PrismaClient;

export interface CreateDbOptions {
  /** Connection string of the services' role (lt_app). Never the owner's: the owner bypasses RLS. */
  url: string;
  /** Pool size. Default 10. */
  max?: number;
  /** Connect timeout, ms. Default 5_000. */
  connectionTimeoutMs?: number;
  /** Per-statement timeout, ms. Default 15_000. */
  statementTimeoutMs?: number;
}

/** Creates a Prisma client over node-postgres. Callers own it and must `$disconnect()` it on stop. */
export function createDb(options: CreateDbOptions): Db {
  const adapter = new PrismaPg({
    connectionString: options.url,
    max: options.max ?? 10,
    connectionTimeoutMillis: options.connectionTimeoutMs ?? 5_000,
    statement_timeout: options.statementTimeoutMs ?? 15_000,
  });
  return new PrismaClient({ adapter });
}
