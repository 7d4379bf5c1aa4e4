import type { Redis } from 'ioredis';
import type { Db } from '@lt/db';
import type { IdentityWatch } from '@lt/identity';
import type { Logger } from '@lt/logger';
import { createCognitoAuthenticator } from './cognitoAuthenticator';
import { MembershipResolver } from './membership';
import { createMemoryMembershipStore, createRedisMembershipStore, type MembershipStore } from './membershipStore';
import type { Authenticator } from './types';
import {
  createAccessTokenVerifier,
  type AccessTokenVerifier,
  type AccessTokenVerifierOptions,
  type AuthFailureReason,
} from './verifier';

export interface IdentityOptions {
  db: Db;
  cognito: AccessTokenVerifierOptions;
  /** Shared membership cache + revocation list; omit for the in-process store (one replica). */
  redis?: Redis;
  /** Identity events (role changes, removals, logouts, suspensions). */
  watch?: IdentityWatch;
  /** Lifetime of in-process entries, ms. Default 2_000. */
  localTtlMs?: number;
  onFailure?: (reason: AuthFailureReason) => void;
  /** Warns when the shared cache fails (at most once per 10 s, with the count since). */
  log?: Logger;
}

/** Everything the router's identity path is made of; `stop()` unsubscribes (connections are the caller's). */
export interface Identity {
  authenticator: Authenticator;
  verifier: AccessTokenVerifier;
  memberships: MembershipResolver;
  store: MembershipStore;
  stop(): Promise<void>;
}

/** Wires verifier → membership resolver (L1 → Redis/memory → Postgres) → authenticator. */
export function createIdentity(o: IdentityOptions): Identity {
  const verifier = createAccessTokenVerifier(o.cognito);
  const store = o.redis ? createRedisMembershipStore(o.redis, o.watch) : createMemoryMembershipStore(o.watch);
  let lastWarn = 0;
  let unreported = 0;
  const onStoreError = (err: unknown, op: 'lookup' | 'put'): void => {
    unreported++;
    if (!o.log || Date.now() - lastWarn < 10_000) return;
    lastWarn = Date.now();
    o.log.warn('membership cache unavailable: answering from Postgres', {
      op,
      failures: unreported,
      err: { name: (err as Error)?.name, message: (err as Error)?.message },
    });
    unreported = 0;
  };
  const memberships = new MembershipResolver({
    db: o.db,
    store,
    onStoreError,
    ...(o.watch ? { watch: o.watch } : {}),
    ...(o.localTtlMs !== undefined ? { localTtlMs: o.localTtlMs } : {}),
  });
  const authenticator = createCognitoAuthenticator({
    verifier,
    memberships,
    ...(o.onFailure ? { onFailure: o.onFailure } : {}),
  });
  return {
    authenticator,
    verifier,
    memberships,
    store,
    async stop() {
      memberships.stop();
      await store.stop();
    },
  };
}
