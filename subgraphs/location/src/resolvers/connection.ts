import { encodeCursor } from '@lt/server';

/** A decoded `after` cursor as the data layer's `[ISO date-time, id]` sort key. */
export const sortKey = (c: { at: Date; id: string }): [string, string] => [c.at.toISOString(), c.id];

/** Relay connection from `first + 1` fetched rows (the extra row only says there is a next page). */
export function toConnection<T>(rows: T[], first: number, cursorOf: (row: T) => (string | number)[]) {
  const page = rows.slice(0, first);
  const edges = page.map((node) => ({ cursor: encodeCursor(cursorOf(node)), node }));
  return { edges, pageInfo: { hasNextPage: rows.length > first, endCursor: edges.at(-1)?.cursor ?? null } };
}
