/**
 * Classifies database failures once, here, so callers never parse driver messages (STYLE.md §7).
 * Prisma with a driver adapter reports unique violations as P2002 with the constraint's fields
 * under `meta.target` or `meta.driverAdapterError.cause.constraint.fields`.
 */
export function isUniqueViolation(err: unknown): boolean {
  if (!err || typeof err !== 'object') return false;
  const e = err as { code?: unknown; cause?: unknown };
  if (e.code === 'P2002' || e.code === '23505') return true;
  return e.cause ? isUniqueViolation(e.cause) : false;
}

/** The columns of the violated unique constraint, when Prisma tells them. */
export function uniqueViolationTarget(err: unknown): string[] {
  const meta = (err as { meta?: Record<string, unknown> } | null)?.meta;
  const target = meta?.['target'];
  if (Array.isArray(target)) return target.map(String);
  if (typeof target === 'string') return [target];
  const fields = (meta?.['driverAdapterError'] as { cause?: { constraint?: { fields?: unknown } } } | undefined)?.cause
    ?.constraint?.fields;
  if (Array.isArray(fields)) return fields.map((f) => String(f).replace(/"/g, ''));
  return [];
}
