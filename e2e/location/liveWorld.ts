/**
 * The world the live e2e files share: one authed stack, tenant A (an admin and the members alice
 * and bob) and tenant B (an admin), and a pool of sockets the files close between tests or at
 * the end.
 *
 *   let stack: AuthedStack, alice: TestUser, ...;
 *   const live = new LiveClients(() => stack);
 *   beforeAll(async () => ({ stack, alice, ... } = await startLiveWorld('prefix')));
 *   afterAll(() => live.stop());
 */
import { createTestTenant, waitFor, type TestTenant } from '@lt/testing';
import { gql } from '../support/graphql';
import { bearer, createUserWithToken, startAuthedStack, type AuthedStack, type TestUser } from '../support/identity';
import { LiveSocket } from './liveSocket';

export interface LiveWorld {
  stack: AuthedStack;
  tA: TestTenant;
  tB: TestTenant;
  adminA: TestUser;
  alice: TestUser;
  bob: TestUser;
  adminB: TestUser;
}

/** Starts the stack (options pass to `startAuthedStack`) and creates both tenants and their users. */
export async function startLiveWorld(
  prefix: string,
  options?: Parameters<typeof startAuthedStack>[0],
): Promise<LiveWorld> {
  const stack = await startAuthedStack(options);
  try {
    const tA = await createTestTenant(stack.db, prefix);
    const tB = await createTestTenant(stack.db, prefix);
    const [adminA, alice, bob, adminB] = await Promise.all([
      createUserWithToken(stack, { tenantId: tA.id, role: 'TENANT_ADMIN' }),
      createUserWithToken(stack, { tenantId: tA.id, role: 'MEMBER' }),
      createUserWithToken(stack, { tenantId: tA.id, role: 'MEMBER' }),
      createUserWithToken(stack, { tenantId: tB.id, role: 'TENANT_ADMIN' }),
    ]);
    return { stack, tA, tB, adminA, alice, bob, adminB };
  } catch (err) {
    await stack.stop();
    throw err;
  }
}

export type Subscription = [socket: LiveSocket, id: string, query: string, variables?: Record<string, unknown>];

/** Sockets and calls as a world's users; `stack` is read on each call (it is set in `beforeAll`). */
export class LiveClients {
  readonly sockets: LiveSocket[] = [];

  constructor(private readonly stack: () => AuthedStack) {}

  /** Opens a socket as `user` (none: no token) to the router or `url`; `acked` waits for the ack. */
  readonly open = async (
    user: TestUser | null,
    { url, acked = true }: { url?: string; acked?: boolean } = {},
  ): Promise<LiveSocket> => {
    const s = await LiveSocket.open(url ?? this.stack().routerUrl, user ? `Bearer ${user.accessToken}` : undefined);
    this.sockets.push(s);
    if (acked) await s.acked();
    return s;
  };

  /** A GraphQL call through the router as `user`; errors throw. */
  readonly as = async <T>(user: TestUser, query: string, variables: Record<string, unknown> = {}): Promise<T> => {
    const r = await gql<T>(this.stack().routerUrl, query, variables, bearer(user));
    if (r.errors) throw new Error(JSON.stringify(r.errors));
    return r.data!;
  };

  /**
   * Sends subscribe messages and waits until the router has them all live (visibility checked,
   * tenant channel listening): a point recorded afterwards is delivered. `idleFirst` waits for
   * earlier subscriptions to be gone first. Bounded.
   */
  readonly subscribeAll = async (subs: Subscription[], { idleFirst = false } = {}): Promise<void> => {
    const live = () => this.stack().subscriptions()!.stats().subscriptions;
    if (idleFirst) await waitFor(() => live() === 0, { what: 'earlier subscriptions closed' });
    const before = live();
    for (const [w, id, q, v] of subs) w.subscribe(id, q, v ?? {});
    await waitFor(() => live() >= before + subs.length, { what: `${subs.length} live subscriptions` });
  };

  /** Closes every socket opened so far. */
  readonly closeAll = async (): Promise<void> => {
    await Promise.allSettled(this.sockets.splice(0).map((s) => s.close()));
  };

  /** Closes the sockets, then stops the stack (if it started). */
  readonly stop = async (): Promise<void> => {
    await this.closeAll();
    await this.stack()?.stop();
  };
}
