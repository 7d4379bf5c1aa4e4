import { withPlatform, type Db } from '@lt/db';
import type { IdentityInvalidation } from '@lt/identity';
import type { Logger } from '@lt/logger';
import type { Cognito } from '../cognito';
import { insertUser } from '../data/users';

export interface BootstrapAdminOptions {
  db: Db;
  cognito: Cognito;
  log: Logger;
  email: string;
  password: string;
  identity?: IdentityInvalidation;
}

/**
 * Creates the first platform admin (Cognito user + users row, role PLATFORM_ADMIN, no tenant) from
 * configuration. Idempotent: a second start finds the row and does nothing; a start that died
 * between Cognito and Postgres finds the Cognito user (by signing in) and adds the row.
 */
export async function bootstrapPlatformAdmin(o: BootstrapAdminOptions): Promise<'created' | 'exists'> {
  const email = o.email.trim().toLowerCase();
  const existing = await withPlatform(o.db, (tx) =>
    tx.user.findUnique({ where: { email }, select: { id: true, role: true } }),
  );
  if (existing) {
    if (existing.role !== 'PLATFORM_ADMIN')
      throw new Error(`bootstrap admin ${email} exists with role ${existing.role}`);
    return 'exists';
  }
  let sub: string;
  try {
    sub = await o.cognito.signUp(email, o.password);
    await o.cognito.adminConfirmSignUp(sub);
  } catch (err) {
    if ((err as { extensions?: { code?: string } }).extensions?.code !== 'CONFLICT') throw err;
    // A previous start created the Cognito user (maybe unconfirmed); the password proves it is ours.
    await o.cognito.adminConfirmSignUp(email).catch(() => undefined);
    sub = (await o.cognito.passwordAuth(email, o.password)).sub;
  }
  await withPlatform(o.db, (tx) => insertUser(tx, { cognitoSub: sub, email, tenantId: null, role: 'PLATFORM_ADMIN' }));
  o.log.info('platform admin bootstrapped', { email });
  return 'created';
}
