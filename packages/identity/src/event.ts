import { isRole } from '@lt/context';
import type { IdentityEvent } from './types';

const str = (v: unknown): v is string => typeof v === 'string' && v.length > 0;

/** Validates an event read off the wire (Redis pub/sub); null when it is not one. */
export function parseIdentityEvent(raw: string): IdentityEvent | null {
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    return null;
  }
  if (typeof v !== 'object' || v === null) return null;
  const e = v as Record<string, unknown>;
  switch (e['type']) {
    case 'tenant.status':
      if (str(e['tenantId']) && (e['status'] === 'ACTIVE' || e['status'] === 'SUSPENDED'))
        return { type: 'tenant.status', tenantId: e['tenantId'], status: e['status'] };
      return null;
    case 'user.changed':
      if (
        str(e['userId']) &&
        str(e['sub']) &&
        (e['tenantId'] === null || str(e['tenantId'])) &&
        (e['role'] === null || isRole(e['role']))
      )
        return { type: 'user.changed', userId: e['userId'], sub: e['sub'], tenantId: e['tenantId'], role: e['role'] };
      return null;
    case 'token.revoked':
      if (str(e['tokenId']) && str(e['sub']) && typeof e['expiresAt'] === 'number')
        return { type: 'token.revoked', tokenId: e['tokenId'], sub: e['sub'], expiresAt: e['expiresAt'] };
      return null;
    case 'user.signed_out':
      if (str(e['sub']) && typeof e['before'] === 'number' && Number.isFinite(e['before']))
        return { type: 'user.signed_out', sub: e['sub'], before: e['before'] };
      return null;
    default:
      return null;
  }
}
