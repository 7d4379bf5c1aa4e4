import Flatbush from 'flatbush';
import type { CompiledFence } from './geometry';

const NONE: readonly CompiledFence[] = [];

/**
 * A tenant's fences at one version, with a static R-tree (flatbush) over their bounding boxes:
 * a point's candidates are found in O(log n + k) whatever the number of fences, and only those
 * get the exact test.
 */
export class FenceIndex {
  readonly byId = new Map<string, CompiledFence>();
  private readonly tree: Flatbush | null;
  private readonly owners: CompiledFence[] = [];

  constructor(
    readonly version: bigint,
    fences: CompiledFence[],
  ) {
    for (const f of fences) {
      this.byId.set(f.id, f);
      for (const _ of f.boxes) this.owners.push(f);
    }
    if (this.owners.length === 0) {
      this.tree = null;
      return;
    }
    this.tree = new Flatbush(this.owners.length);
    for (const f of fences) for (const b of f.boxes) this.tree.add(b[0], b[1], b[2], b[3]);
    this.tree.finish();
  }

  get size(): number {
    return this.byId.size;
  }

  /** Fences whose bounding box holds the point (a fence may appear once per box: deduplicated). */
  candidates(lat: number, lon: number): readonly CompiledFence[] {
    if (!this.tree) return NONE;
    const hits = this.tree.search(lon, lat, lon, lat);
    if (hits.length === 0) return NONE;
    if (hits.length === 1) return [this.owners[hits[0]!]!];
    return [...new Set(hits.map((i) => this.owners[i]!))];
  }
}

/**
 * Per-process cache of tenants' indexes, keyed by the version the point's transaction read
 * (`geofence_tenant_state.version`, bumped with every fence change in the same transaction), so a
 * replica never evaluates against fences another replica has changed. Bounded (least recently used
 * tenants are dropped).
 */
export class FenceIndexCache {
  private readonly entries = new Map<string, FenceIndex>();
  constructor(private readonly maxTenants = 1_000) {}

  get(tenantId: string, version: bigint): FenceIndex | null {
    const e = this.entries.get(tenantId);
    if (!e || e.version !== version) return null;
    // Refresh recency.
    this.entries.delete(tenantId);
    this.entries.set(tenantId, e);
    return e;
  }

  set(tenantId: string, index: FenceIndex): void {
    this.entries.delete(tenantId);
    this.entries.set(tenantId, index);
    while (this.entries.size > this.maxTenants) this.entries.delete(this.entries.keys().next().value!);
  }
}
