import { isUuid } from '@lt/context';
/**
 * The one helper that builds pub/sub channel names: the tenant is always part of
 * the name, so a listener on one tenant's channel can never receive another tenant's messages.
 */
export type ChannelKind = 'live';

/** `lt:t:<tenantId>:<kind>`. Throws on a missing or malformed tenant id (never "all tenants"). */
export function tenantChannel(tenantId: string, kind: ChannelKind): string {
  if (!isUuid(tenantId)) throw new TypeError('tenantChannel: tenantId must be a UUID');
  return `lt:t:${tenantId.toLowerCase()}:${kind}`;
}
