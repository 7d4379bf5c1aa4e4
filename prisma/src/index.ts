/**
 * The database package: the Prisma client factory, the one helper that runs a unit of work with
 * the tenant set (every subgraph goes through it), and the offline migrator.
 */
export { createDb, rawPool, closeRawPool, withRawTransaction, type Db, type CreateDbOptions } from './client';
export { withTenant, withPlatform, withSystem, type Tx, type UnitOfWorkOptions } from './unitOfWork';
export { applyMigrations, listMigrations, MIGRATIONS_DIR, type MigrationResult } from './migrate';
export { setupDatabase, type SetupDatabaseOptions } from './setup';
export {
  isInvalidInputDatabaseError,
  isTransientDatabaseError,
  isUniqueViolation,
  uniqueViolationTarget,
} from './errors';
export { Prisma } from '../generated/client';
export type * from '../generated/models';
export * as enums from '../generated/enums';
