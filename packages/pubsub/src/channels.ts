/**
 * The one helper that builds pub/sub channel names: the tenant is always part of
 * the name, so a listener on one tenant's channel can never receive another tenant's messages.
 */
export type ChannelKind = 'live';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** `lt:t:<tenantId>:<kind>`. Throws on a missing or malformed tenant id (never "all tenants"). */
export function tenantChannel(tenantId: string, kind: ChannelKind): string {
  if (!UUID.test(tenantId)) throw new TypeError('tenantChannel: tenantId must be a UUID');
  return `lt:t:${tenantId.toLowerCase()}:${kind}`;
}
