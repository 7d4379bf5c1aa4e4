import { isUuid, type Membership } from '@lt/context';
import { notFound } from '@lt/errors';

/**
 * The caller may address tenant `id`: a PLATFORM_ADMIN any, everyone else only its own. Anything
 * else is NOT_FOUND, exactly like an id that does not exist (existence does not leak).
 */
export function addressable(m: Membership, id: string): string {
  if (!isUuid(id)) throw notFound('Tenant', 'id');
  if (m.role !== 'PLATFORM_ADMIN' && m.tenantId !== id) throw notFound('Tenant', 'id');
  return id;
}
