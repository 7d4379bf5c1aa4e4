/**
 * Per-request batching of entity references (`__resolveReference`), the way the tenant subgraph
 * resolves `Tenant`: the gateway sends many representations in one `_entities` call and Apollo
 * resolves them in one synchronous pass, so the ids asked for in that pass become ONE query per
 * type, and repeated ids are answered once. State lives on the request's context object (a
 * WeakMap), so nothing is shared between requests or callers.
 */

interface Batch {
  cache: Map<string, Promise<unknown>>;
  pending: { id: string; resolve: (v: unknown) => void; reject: (err: unknown) => void }[];
}

const batches = new WeakMap<object, Map<string, Batch>>();

/**
 * Loads `id` of entity `type` for this request (`ctx`, the request's context object) through
 * `loadMany`, which is called once per batch with the distinct ids and returns the visible rows by
 * id (rows not returned resolve to null). Call it synchronously from `__resolveReference`.
 */
export function loadBatched<V>(
  ctx: object,
  type: string,
  id: string,
  loadMany: (ids: string[]) => Promise<ReadonlyMap<string, V>>,
): Promise<V | null> {
  let byType = batches.get(ctx);
  if (!byType) {
    byType = new Map();
    batches.set(ctx, byType);
  }
  let batch = byType.get(type);
  if (!batch) {
    batch = { cache: new Map(), pending: [] };
    byType.set(type, batch);
  }
  const b = batch;
  const cached = b.cache.get(id);
  if (cached) return cached as Promise<V | null>;
  const p = new Promise<V | null>((resolve, reject) => {
    if (b.pending.length === 0)
      queueMicrotask(() => {
        const current = b.pending;
        b.pending = [];
        loadMany([...new Set(current.map((c) => c.id))]).then(
          (rows) => {
            for (const c of current) c.resolve(rows.get(c.id) ?? null);
          },
          (err: unknown) => {
            for (const c of current) c.reject(err);
          },
        );
      });
    b.pending.push({ id, resolve: resolve as (v: unknown) => void, reject });
  });
  b.cache.set(id, p);
  return p;
}

/** Rows by their `id` (for `loadMany`). */
export const byId = <V extends { id: string }>(rows: readonly V[]): Map<string, V> =>
  new Map(rows.map((r) => [r.id, r]));
