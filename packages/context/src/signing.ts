import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import type { Caller, Membership } from './membership';
import { isRole } from './membership';

/** The one header that carries the router-signed caller to subgraphs. */
export const CONTEXT_HEADER = 'x-router-context';
/** Request id, set by the router (client values are replaced), logged everywhere. */
export const REQUEST_ID_HEADER = 'x-request-id';

export class ContextVerificationError extends Error {
  constructor(readonly reason: 'missing' | 'malformed' | 'bad_signature' | 'expired' | 'invalid_claims') {
    super(`router context refused: ${reason}`);
    this.name = 'ContextVerificationError';
  }
}

export interface SignContextOptions {
  /** Shared HMAC secret (≥ 32 bytes), from config `ROUTER_CONTEXT_SECRET`. */
  secret: string;
  /** Lifetime of the signed context, seconds. Default 30: it only has to survive one request. */
  ttlSeconds?: number;
  /** Clock, seconds since epoch (for tests). */
  now?: () => number;
}

export interface VerifyContextOptions {
  secret: string;
  /**
   * The request id sent beside the context (`x-request-id`); it is not signed, so one signature
   * serves all of a caller's requests. Absent or not an id (1–128 of `A-Za-z0-9._:-`): a new one.
   */
  requestId?: string | null;
  /** Allowed clock difference between router and subgraph, seconds. Default 5. */
  clockSkewSeconds?: number;
  now?: () => number;
}

const b64url = (buf: Buffer | string): string => Buffer.from(buf).toString('base64url');
const HEADER = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
const nowSeconds = (): number => Math.floor(Date.now() / 1000);

function mac(secret: string, input: string): Buffer {
  return createHmac('sha256', secret).update(input).digest();
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Signs a caller as a compact JWS (HS256). Only the router calls this. The request id is not
 * signed (it travels in `x-request-id`): the signature covers who is calling, so it can be reused
 * for every request of that caller while it lives.
 */
export function signContext(
  caller: Omit<Caller, 'requestId'> & { requestId?: string },
  options: SignContextOptions,
): string {
  const now = (options.now ?? nowSeconds)();
  const claims = {
    membership: caller.membership,
    tokenId: caller.tokenId,
    tokenExpiresAt: caller.tokenExpiresAt,
    clientAddress: caller.clientAddress,
    iat: now,
    exp: now + (options.ttlSeconds ?? 30),
  };
  const payload = b64url(JSON.stringify(claims));
  const input = `${HEADER}.${payload}`;
  return `${input}.${b64url(mac(options.secret, input))}`;
}

function parseMembership(value: unknown): Membership | null {
  if (value === null) return null;
  if (typeof value !== 'object') throw new ContextVerificationError('invalid_claims');
  const m = value as Record<string, unknown>;
  if (
    typeof m['userId'] !== 'string' ||
    typeof m['sub'] !== 'string' ||
    !(typeof m['tenantId'] === 'string' || m['tenantId'] === null) ||
    !isRole(m['role']) ||
    !(m['tenantStatus'] === 'ACTIVE' || m['tenantStatus'] === 'SUSPENDED' || m['tenantStatus'] === null)
  ) {
    throw new ContextVerificationError('invalid_claims');
  }
  if (m['role'] !== 'PLATFORM_ADMIN' && m['tenantId'] === null) {
    throw new ContextVerificationError('invalid_claims');
  }
  return {
    userId: m['userId'],
    sub: m['sub'],
    tenantId: m['tenantId'] as string | null,
    role: m['role'],
    tenantStatus: m['tenantStatus'] as Membership['tenantStatus'],
  };
}

/** Verifies a router-signed context; throws {@link ContextVerificationError} on anything wrong. */
export function verifyContext(token: string | undefined | null, options: VerifyContextOptions): Caller {
  if (!token) throw new ContextVerificationError('missing');
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== HEADER) throw new ContextVerificationError('malformed');
  const [header, payload, signature] = parts as [string, string, string];
  const expected = mac(options.secret, `${header}.${payload}`);
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new ContextVerificationError('bad_signature');
  }
  let claims: Record<string, unknown>;
  try {
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    throw new ContextVerificationError('malformed');
  }
  const now = (options.now ?? nowSeconds)();
  const skew = options.clockSkewSeconds ?? 5;
  if (typeof claims['exp'] !== 'number' || claims['exp'] + skew < now) {
    throw new ContextVerificationError('expired');
  }
  const str = (k: string): string | null => (typeof claims[k] === 'string' ? (claims[k] as string) : null);
  return {
    membership: parseMembership(claims['membership'] ?? null),
    requestId: options.requestId && REQUEST_ID.test(options.requestId) ? options.requestId : randomUUID(),
    tokenId: str('tokenId'),
    tokenExpiresAt: typeof claims['tokenExpiresAt'] === 'number' ? claims['tokenExpiresAt'] : null,
    clientAddress: str('clientAddress'),
  };
}
