/**
 * Entity representations sent once each: @apollo/gateway sends one representation per entity
 * occurrence (20 sessions of 4 users: 20 `User` representations); the subgraph gets the distinct
 * ones and the answers are mapped back to every occurrence.
 */

export interface Deduplicated {
  unique: unknown[];
  /** For each original representation, its index in `unique`. */
  indexOf: number[];
}

/** Null when every representation is distinct (nothing to do). */
export function dedupeRepresentations(representations: unknown[]): Deduplicated | null {
  const seen = new Map<string, number>();
  const unique: unknown[] = [];
  const indexOf: number[] = [];
  for (const r of representations) {
    const key = JSON.stringify(r);
    let i = seen.get(key);
    if (i === undefined) {
      i = unique.length;
      seen.set(key, i);
      unique.push(r);
    }
    indexOf.push(i);
  }
  return unique.length === representations.length ? null : { unique, indexOf };
}

interface EntitiesResponse {
  data?: Record<string, unknown> | null;
  errors?: readonly { path?: readonly (string | number)[] }[];
}

/**
 * Expands an `_entities` answer to the original representations: each occurrence gets its own
 * copy of its entity (the gateway merges later fetches into these objects), and an error at
 * `_entities.i` is repeated at every occurrence of representation i.
 */
export function expandEntities<R extends EntitiesResponse>(response: R, d: Deduplicated): R {
  const entities = response.data?.['_entities'];
  if (Array.isArray(entities)) {
    const used = new Set<number>();
    response.data!['_entities'] = d.indexOf.map((i) => {
      const e = entities[i] as unknown;
      if (!used.has(i)) {
        used.add(i);
        return e;
      }
      return e === null || typeof e !== 'object' ? e : structuredClone(e);
    });
  }
  if (response.errors?.length) {
    const occurrences = new Map<number, number[]>();
    d.indexOf.forEach((u, original) => occurrences.set(u, [...(occurrences.get(u) ?? []), original]));
    const errors: unknown[] = [];
    for (const e of response.errors) {
      const at = e.path?.[0] === '_entities' && typeof e.path[1] === 'number' ? occurrences.get(e.path[1]) : undefined;
      if (!at) errors.push(e);
      else for (const original of at) errors.push({ ...e, path: ['_entities', original, ...e.path!.slice(2)] });
    }
    (response as { errors?: unknown[] }).errors = errors;
  }
  return response;
}
