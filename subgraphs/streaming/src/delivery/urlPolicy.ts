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
  // Local-use NAT64 (RFC 8215): the IPv4 address sits at a prefix-dependent position; refused whole.
  '64:ff9b:1::/48',
  '100::/64',
  '2001:db8::/32',
  // Deprecated site-local and 6bone: never a third party's webhook.
  'fec0::/10',
  '3ffe::/16',
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

/** The eight 16-bit words of an IPv6 literal (`::`, a trailing dotted quad and a zone id allowed). */
function ipv6Words(address: string): number[] | null {
  const bare = address.split('%')[0]!;
  if (isIP(bare) !== 6) return null;
  let text = bare;
  const quad = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (quad) {
    const [a, b, c, d] = quad.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, quad.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const parse = (part: string | undefined) => (part ? part.split(':').map((h) => parseInt(h, 16)) : []);
  const left = parse(head);
  const right = parse(tail);
  const words =
    tail === undefined ? left : [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  return words.length === 8 && words.every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffff) ? words : null;
}

const v4 = (hi: number, lo: number): string => `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;

/**
 * The IPv4 addresses an IPv6 address embeds, by transition form: `mapped` (`::ffff:a.b.c.d`, and
 * SIIT's IPv4-translated `::ffff:0:a.b.c.d`) is that IPv4 host itself; `tunnelled` ones (IPv4-
 * compatible `::a.b.c.d`, NAT64 `64:ff9b::/96`, 6to4 `2002::/16`, Teredo `2001:0::/32` server and
 * client, ISATAP interface ids `…:0:5efe:a.b.c.d` / `…:200:5efe:a.b.c.d`) reach it through a
 * translator or relay. Empty for a native IPv6 address.
 */
export function embeddedIpv4(address: string): { mapped: string[]; tunnelled: string[] } {
  const w = ipv6Words(address);
  const none = { mapped: [], tunnelled: [] };
  if (!w) return none;
  const zero = (from: number, to: number) => w.slice(from, to).every((x) => x === 0);
  if (zero(0, 5) && w[5] === 0xffff) return { mapped: [v4(w[6]!, w[7]!)], tunnelled: [] };
  if (zero(0, 4) && w[4] === 0xffff && w[5] === 0) return { mapped: [v4(w[6]!, w[7]!)], tunnelled: [] };
  // ::/127 (unspecified, loopback) are IPv6 addresses of their own, judged as such.
  if (zero(0, 6) && (w[6] !== 0 || w[7]! > 1)) return { mapped: [], tunnelled: [v4(w[6]!, w[7]!)] };
  if (w[0] === 0x64 && w[1] === 0xff9b && zero(2, 6)) return { mapped: [], tunnelled: [v4(w[6]!, w[7]!)] };
  const tunnelled: string[] = [];
  if (w[0] === 0x2002) tunnelled.push(v4(w[1]!, w[2]!));
  if (w[0] === 0x2001 && w[1] === 0) tunnelled.push(v4(w[2]!, w[3]!), v4(w[6]! ^ 0xffff, w[7]! ^ 0xffff));
  if ((w[4]! & 0xfdff) === 0 && w[5] === 0x5efe) tunnelled.push(v4(w[6]!, w[7]!));
  return { mapped: [], tunnelled };
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

/**
 * Whether the policy lets a connection go to `address` (an IP literal). An IPv6 address that
 * embeds an IPv4 address is judged by it too: a mapped one as that IPv4 host, a tunnelled one
 * (6to4, Teredo, NAT64, …) must embed an address a sink may reach (loopback never).
 */
export function isAddressAllowed(rawAddress: string, policy: UrlPolicy): boolean {
  const address = rawAddress.split('%')[0]!;
  if (!isIP(address)) return false;
  if (allowListed(address, policy)) return true;
  const embedded = embeddedIpv4(address);
  if (embedded.mapped.length > 0) return embedded.mapped.every((a) => isAddressAllowed(a, policy));
  if (embedded.tunnelled.some((a) => !isAddressAllowed(a, { ...policy, allowLoopback: false }))) return false;
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
