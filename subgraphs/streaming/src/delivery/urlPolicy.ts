import { BlockList, isIP } from 'node:net';
import { lookup as dnsLookup } from 'node:dns/promises';

/** Where sinks may point (SSRF safety). */
export interface UrlPolicy {
  /**
   * Development only: allow `http:` and loopback addresses (127.0.0.0/8, ::1) — the local receivers
   * of tests and `npm start`. Never on in production.
   */
  allowLoopback: boolean;
  /** Addresses/subnets allowed even though private (`10.1.2.3`, `10.0.0.0/8`, `fd00::/8`). */
  allowList?: readonly string[];
  /** DNS resolution timeout, ms. Default 3_000. */
  dnsTimeoutMs?: number;
}

// Private, loopback, link-local (incl. the 169.254.169.254 / fd00:ec2::254 metadata services),
// CGNAT, benchmarking, multicast and reserved ranges: never a third party's webhook.
const BLOCKED_V4 = [
  '0.0.0.0/8',
  '10.0.0.0/8',
  '100.64.0.0/10',
  '127.0.0.0/8',
  '169.254.0.0/16',
  '172.16.0.0/12',
  '192.0.0.0/24',
  '192.0.2.0/24',
  '192.168.0.0/16',
  '198.18.0.0/15',
  '198.51.100.0/24',
  '203.0.113.0/24',
  '224.0.0.0/4',
  '240.0.0.0/4',
];
const BLOCKED_V6 = [
  '::/128',
  '::1/128',
  'fc00::/7',
  'fe80::/10',
  'ff00::/8',
  '64:ff9b::/96',
  '100::/64',
  '2001:db8::/32',
];
const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

const blocked = new BlockList();
for (const c of BLOCKED_V4) blocked.addSubnet(c.split('/')[0]!, Number(c.split('/')[1]), 'ipv4');
for (const c of BLOCKED_V6) blocked.addSubnet(c.split('/')[0]!, Number(c.split('/')[1]), 'ipv6');

/** Thrown for a URL or address the policy refuses; `reason` is safe to show to the tenant. */
export class UrlRefusedError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'UrlRefusedError';
  }
}

function family(address: string): 'ipv4' | 'ipv6' {
  return isIP(address) === 6 ? 'ipv6' : 'ipv4';
}

/** IPv4-mapped IPv6 (`::ffff:10.0.0.1`) is judged as the IPv4 address it maps. */
function normalise(address: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return m ? m[1]! : address;
}

function allowListed(address: string, policy: UrlPolicy): boolean {
  if (!policy.allowList?.length) return false;
  const list = new BlockList();
  for (const entry of policy.allowList) {
    const [ip, bits] = entry.split('/');
    if (!ip || !isIP(ip)) continue;
    if (bits === undefined) list.addAddress(ip, family(ip));
    else list.addSubnet(ip, Number(bits), family(ip));
  }
  return list.check(address, family(address));
}

/** Whether the policy lets a connection go to `address` (an IP literal). */
export function isAddressAllowed(rawAddress: string, policy: UrlPolicy): boolean {
  const address = normalise(rawAddress);
  if (!isIP(address)) return false;
  if (allowListed(address, policy)) return true;
  if (LOOPBACK.check(address, family(address))) return policy.allowLoopback;
  return !blocked.check(address, family(address));
}

/** Syntax and scheme checks (no DNS): https, or http for loopback when the policy allows it. */
export function parseSinkUrl(raw: string, policy: UrlPolicy): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UrlRefusedError('url is not a valid absolute URL');
  }
  if (url.username || url.password) throw new UrlRefusedError('url must not contain credentials');
  if (raw.length > 2048) throw new UrlRefusedError('url is longer than 2048 characters');
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const loopbackHost = host === 'localhost' || (isIP(host) > 0 && LOOPBACK.check(host, family(host)));
  if (url.protocol === 'https:') return url;
  if (url.protocol === 'http:' && policy.allowLoopback && loopbackHost) return url;
  throw new UrlRefusedError('url must use https');
}

/** Resolves `host` and returns its addresses if every one is allowed; refuses otherwise. */
export async function resolveAllowed(host: string, policy: UrlPolicy): Promise<{ address: string; family: number }[]> {
  const bare = host.replace(/^\[|\]$/g, '');
  const addresses = isIP(bare)
    ? [{ address: bare, family: isIP(bare) }]
    : await withTimeout(dnsLookup(bare, { all: true, verbatim: true }), policy.dnsTimeoutMs ?? 3_000);
  if (addresses.length === 0) throw new UrlRefusedError('url host does not resolve');
  for (const a of addresses) {
    if (!isAddressAllowed(a.address, policy)) {
      throw new UrlRefusedError('url resolves to a private, loopback or link-local address');
    }
  }
  return addresses;
}

/** Full check used when a sink is created or its URL changes: syntax, scheme, DNS, addresses. */
export async function validateSinkUrl(raw: string, policy: UrlPolicy): Promise<URL> {
  const url = parseSinkUrl(raw, policy);
  try {
    await resolveAllowed(url.hostname, policy);
  } catch (err) {
    if (err instanceof UrlRefusedError) throw err;
    throw new UrlRefusedError('url host does not resolve');
  }
  return url;
}

async function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new UrlRefusedError('url host did not resolve in time')), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
