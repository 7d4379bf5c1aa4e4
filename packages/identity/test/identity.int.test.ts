/** The identity bus contract against the in-memory bus and the Redis bus (two replicas). */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { testEnv } from '@lt/testing';
import { createMemoryIdentityBus, createRedisIdentityBus, identityKeys, openIdentityBus } from '../src';
import { identityBusContract } from './contract';

const connect = (): Redis => new Redis(testEnv().redisUrl, { maxRetriesPerRequest: 1, connectTimeout: 2_000 });

identityBusContract('memory', async () => {
  const bus = createMemoryIdentityBus();
  return { publisher: bus, watchers: [bus], stop: async () => undefined };
});

identityBusContract('redis', async () => {
  const conns = [connect(), connect(), connect()];
  const [cmd, subA, subB] = conns as [Redis, Redis, Redis];
  const a = await createRedisIdentityBus({ redis: cmd, subscriber: subA });
  const b = await createRedisIdentityBus({ redis: cmd, subscriber: subB });
  return {
    publisher: a,
    watchers: [a, b],
    stop: async () => {
      await a.close();
      await b.close();
      for (const c of conns) c.disconnect();
    },
  };
});

identityBusContract('opened on redis (openIdentityBus, two processes)', async () => {
  const [cmdA, cmdB] = [connect(), connect()];
  const a = await openIdentityBus({ redis: cmdA });
  const b = await openIdentityBus({ redis: cmdB });
  return {
    publisher: a,
    watchers: [a, b],
    stop: async () => {
      await a.close();
      await b.close();
      cmdA.disconnect();
      cmdB.disconnect();
    },
  };
});

identityBusContract('opened in memory (openIdentityBus without redis)', async () => {
  const bus = await openIdentityBus();
  return { publisher: bus, watchers: [bus], stop: () => bus.close() };
});

describe('openIdentityBus', () => {
  it("closes the SUBSCRIBE connection it opened and leaves the caller's connection open", async () => {
    // The duplicate keeps the connection name, so this test counts only its own connections.
    const name = `identity-open-${randomUUID()}`;
    const redis = new Redis(testEnv().redisUrl, {
      maxRetriesPerRequest: 1,
      connectTimeout: 2_000,
      connectionName: name,
    });
    const named = async () =>
      String(await redis.client('LIST'))
        .split('\n')
        .filter((line) => line.includes(` name=${name} `)).length;
    try {
      expect(await named()).toBe(1);
      const bus = await openIdentityBus({ redis });
      expect(await named()).toBe(2);
      await bus.close();
      await expect.poll(named).toBe(1);
      expect(await redis.ping()).toBe('PONG');
    } finally {
      redis.disconnect();
    }
  });
});

describe('redis identity bus: durable effects', () => {
  it('records revocations until the token expires, drops cached memberships by sub and by tenant', async () => {
    const redis = connect();
    try {
      const bus = await createRedisIdentityBus({ redis });
      const tokenId = randomUUID();
      await bus.publish({ type: 'token.revoked', tokenId, sub: 's', expiresAt: Math.floor(Date.now() / 1000) + 30 });
      const ttl = await redis.ttl(identityKeys.revoked(tokenId));
      expect(ttl).toBeGreaterThan(25);
      expect(ttl).toBeLessThanOrEqual(30);

      const [s1, s2, tenantId] = [randomUUID(), randomUUID(), randomUUID()];
      await redis.set(identityKeys.membership(s1), '{}', 'EX', 60);
      await redis.set(identityKeys.membership(s2), '{}', 'EX', 60);
      await redis.sadd(identityKeys.tenantSubs(tenantId), s1, s2);
      await bus.publish({ type: 'user.changed', userId: randomUUID(), sub: s1, tenantId, role: 'MEMBER' });
      expect(await redis.exists(identityKeys.membership(s1))).toBe(0);
      expect(await redis.exists(identityKeys.membership(s2))).toBe(1);
      await bus.publish({ type: 'tenant.status', tenantId, status: 'SUSPENDED' });
      expect(await redis.exists(identityKeys.membership(s2), identityKeys.tenantSubs(tenantId))).toBe(0);
      // Sign-out everywhere: the time, kept for a day (the longest access-token lifetime).
      const before = Math.floor(Date.now() / 1000);
      await bus.publish({ type: 'user.signed_out', sub: s1, before });
      expect(await redis.get(identityKeys.signedOut(s1))).toBe(String(before));
      expect(await redis.ttl(identityKeys.signedOut(s1))).toBeGreaterThan(24 * 3600 - 10);
      await expect(async () => bus.subscribe(() => undefined)).rejects.toThrow(/subscriber/);
      await bus.close();
    } finally {
      redis.disconnect();
    }
  });
});
