const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Every id in the platform (tenants, users, devices, sinks, events) is a UUID. Anything else cannot
 * exist, and must not reach Postgres, where a `::uuid` cast of it fails.
 */
export const isUuid = (id: string): boolean => UUID.test(id);
