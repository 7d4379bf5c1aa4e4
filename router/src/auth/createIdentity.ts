import type { Redis } from 'ioredis';
import type { Db } from '@lt/db';
import type { IdentityWatch } from '@lt/identity';
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
  const memberships = new MembershipResolver({
    db: o.db,
    store,
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
