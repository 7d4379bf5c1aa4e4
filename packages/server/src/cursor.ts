import { badUserInput } from '@lt/errors';
import { isUuid } from '@lt/context';
import { parseDateTime } from './scalars';

/** Opaque Relay cursor over a sort key (e.g. `[createdAt ISO, id]`). */
export function encodeCursor(parts: (string | number)[]): string {
  return Buffer.from(JSON.stringify(parts)).toString('base64url');
}

/** Decodes a cursor made by {@link encodeCursor}; BAD_USER_INPUT on anything else. */
export function decodeCursor(cursor: string, arity: number, field = 'after'): (string | number)[] {
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(v) && v.length === arity && v.every((x) => typeof x === 'string' || typeof x === 'number'))
      return v;
  } catch {
    // fall through
  }
  throw badUserInput('Invalid cursor', field);
}

/**
 * Decodes a `[ISO date-time, UUID]` sort-key cursor (what every connection here pages by); a
 * cursor that decodes to anything else — wrong types, a date Postgres cannot hold, a non-UUID id —
 * is BAD_USER_INPUT naming `field`, before it reaches a query.
 */
export function decodeTimeIdCursor(cursor: string, field = 'after'): { at: Date; id: string } {
  const [iso, id] = decodeCursor(cursor, 2, field);
  const at = parseDateTime(iso);
  if (typeof at === 'string' || typeof id !== 'string' || !isUuid(id)) throw badUserInput('Invalid cursor', field);
  return { at, id };
}

/** `first` with a default and a hard maximum; BAD_USER_INPUT outside [0, max]. */
export function clampFirst(first: number | null | undefined, { def = 20, max = 100 } = {}): number {
  if (first === null || first === undefined) return def;
  if (!Number.isInteger(first) || first < 0 || first > max)
    throw badUserInput(`first must be between 0 and ${max}`, 'first');
  return first;
}
