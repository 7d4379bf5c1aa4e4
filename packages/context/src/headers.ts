/**
 * Headers a client might send to impersonate someone. The router deletes every one of them (and
 * anything starting with `x-tenant-`, `x-user-` or `x-router-`) before it builds its own.
 */
export const IDENTITY_HEADERS = [
  'x-tenant-id',
  'x-user-id',
  'x-user-role',
  'x-role',
  'x-router-context',
  'x-forwarded-user',
] as const;

const PREFIXES = ['x-tenant-', 'x-user-', 'x-router-'];

/** Returns a copy of `headers` without identity headers (case-insensitive). */
export function stripIdentityHeaders<T>(headers: Record<string, T>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if ((IDENTITY_HEADERS as readonly string[]).includes(lower)) continue;
    if (PREFIXES.some((p) => lower.startsWith(p))) continue;
    out[name] = value;
  }
  return out;
}
