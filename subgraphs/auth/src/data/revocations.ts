import { withSystem, type Db } from '@lt/db';

/**
 * The durable record of sign-outs and revocations (Postgres); the identity bus then tells every
 * router and caches them in Redis. Written before announcing, so a Redis that loses its data (or
 * is down) cannot bring a signed-out token back: routers read these on every cache miss.
 */
export async function signOutEverywhere(db: Db, sub: string, beforeEpochSeconds: number): Promise<void> {
  await withSystem(
    db,
    (tx) => tx.$executeRaw`SELECT app_sign_out_everywhere(${sub}, to_timestamp(${beforeEpochSeconds}))`,
  );
}

/** Revokes a token family (`origin_jti`/`jti`) until its tokens would have expired (epoch s). */
export async function revokeTokenFamily(db: Db, tokenId: string, sub: string, expiresAt: number): Promise<void> {
  await withSystem(db, (tx) => tx.$executeRaw`SELECT app_revoke_token(${tokenId}, ${sub}, to_timestamp(${expiresAt}))`);
}
