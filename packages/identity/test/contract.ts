/**
 * One contract for every IdentityInvalidation + IdentityWatch implementation (in-memory and Redis).
 * The channel may be shared with other tests, so every assertion filters by unique ids.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { IdentityEvent, IdentityInvalidation, IdentityWatch } from '../src';

export interface BusUnderTest {
  /** Two handles on the same bus (two replicas for Redis; the same object in memory). */
  publisher: IdentityInvalidation;
  watchers: IdentityWatch[];
  stop(): Promise<void>;
}

function nextMatching(watch: IdentityWatch, match: (e: IdentityEvent) => boolean, timeoutMs = 2_000) {
  return new Promise<IdentityEvent>((resolve, reject) => {
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error('no matching identity event'));
    }, timeoutMs);
    const unsubscribe = watch.subscribe((e) => {
      if (!match(e)) return;
      clearTimeout(timer);
      unsubscribe();
      resolve(e);
    });
  });
}

export function identityBusContract(name: string, make: () => Promise<BusUnderTest>): void {
  describe(`identity bus contract: ${name}`, () => {
    it('delivers each kind of event, unchanged, to every watcher', async () => {
      const bus = await make();
      try {
        const sub = randomUUID();
        const tenantId = randomUUID();
        const events: IdentityEvent[] = [
          { type: 'user.changed', userId: randomUUID(), sub, tenantId, role: 'MEMBER' },
          { type: 'user.changed', userId: randomUUID(), sub, tenantId, role: null },
          { type: 'tenant.status', tenantId, status: 'SUSPENDED' },
          { type: 'token.revoked', tokenId: randomUUID(), sub, expiresAt: Math.floor(Date.now() / 1000) + 60 },
          { type: 'user.signed_out', sub, before: Math.floor(Date.now() / 1000) },
        ];
        for (const event of events) {
          const received = bus.watchers.map((w) => nextMatching(w, (e) => JSON.stringify(e) === JSON.stringify(event)));
          await bus.publisher.publish(event);
          for (const r of await Promise.all(received)) expect(r).toEqual(event);
        }
      } finally {
        await bus.stop();
      }
    });

    it('stops delivering after unsubscribe', async () => {
      const bus = await make();
      try {
        const watch = bus.watchers[0]!;
        const sub = randomUUID();
        const seen: IdentityEvent[] = [];
        const unsubscribe = watch.subscribe((e) => {
          if ('sub' in e && e.sub === sub) seen.push(e);
        });
        unsubscribe();
        const marker = randomUUID();
        const markerSeen = nextMatching(watch, (e) => e.type === 'tenant.status' && e.tenantId === marker);
        await bus.publisher.publish({ type: 'user.changed', userId: randomUUID(), sub, tenantId: null, role: null });
        // Delivery is ordered per publisher: once the marker arrives, the earlier event would have too.
        await bus.publisher.publish({ type: 'tenant.status', tenantId: marker, status: 'ACTIVE' });
        await markerSeen;
        expect(seen).toEqual([]);
      } finally {
        await bus.stop();
      }
    });

    it('a throwing listener does not stop delivery to the others', async () => {
      const bus = await make();
      try {
        const watch = bus.watchers[0]!;
        const tenantId = randomUUID();
        const un = watch.subscribe(() => {
          throw new Error('listener bug');
        });
        const got = nextMatching(watch, (e) => e.type === 'tenant.status' && e.tenantId === tenantId);
        await bus.publisher.publish({ type: 'tenant.status', tenantId, status: 'ACTIVE' }).catch(() => undefined);
        await expect(got).resolves.toMatchObject({ tenantId });
        un();
      } finally {
        await bus.stop();
      }
    });
  });
}
