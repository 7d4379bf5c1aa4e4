import { describe, expect, it, vi } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { decryptSecret, encryptSecret, generateSecret, parseEncryptionKey } from '../src/crypto/secrets';
import { webhookHeaders } from '../src/delivery/signature';
import { postWebhook } from '../src/delivery/httpPost';
import {
  embeddedIpv4,
  isAddressAllowed,
  parseSinkUrl,
  UrlRefusedError,
  validateSinkUrl,
} from '../src/delivery/urlPolicy';
import { afterFailure, defaultDeliveryPolicy } from '../src/delivery/schedule';
import { parseEnvelope } from '../src/consumers/parseEnvelope';

describe('Standard Webhooks signatures', () => {
  const body = JSON.stringify({ id: 'msg_1', data: { a: 1 } });
  const now = Math.floor(Date.now() / 1000);

  it('verify with the independent standardwebhooks implementation', () => {
    const secret = generateSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    const headers = webhookHeaders([secret], 'msg_1', body, now);
    expect(() => new Webhook(secret).verify(body, { ...headers })).not.toThrow();
    expect(() => new Webhook(generateSecret()).verify(body, { ...headers })).toThrow();
    expect(() => new Webhook(secret).verify(body + ' ', { ...headers })).toThrow();
  });

  it('during rotation both secrets verify (space-separated signatures)', () => {
    const [current, previous] = [generateSecret(), generateSecret()];
    const headers = webhookHeaders([current, previous], 'msg_2', body, now);
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    expect(() => new Webhook(current).verify(body, { ...headers })).not.toThrow();
    expect(() => new Webhook(previous).verify(body, { ...headers })).not.toThrow();
  });
});

describe('secret encryption (AES-256-GCM)', () => {
  const key = parseEncryptionKey(Buffer.alloc(32, 7).toString('base64'));

  it('round-trips, never stores the plaintext, and refuses another key or tampering', () => {
    const secret = generateSecret();
    const enc = encryptSecret(secret, key);
    expect(enc).not.toContain(secret.slice(6));
    expect(encryptSecret(secret, key)).not.toBe(enc); // random IV
    expect(decryptSecret(enc, key)).toBe(secret);
    expect(() => decryptSecret(enc, parseEncryptionKey('ab'.repeat(32)))).toThrow();
    const parts = enc.split('.');
    parts[3] = Buffer.from('tampered').toString('base64url');
    expect(() => decryptSecret(parts.join('.'), key)).toThrow();
  });

  it('refuses keys that are not 32 bytes', () => {
    expect(() => parseEncryptionKey('short')).toThrow(/32 bytes/);
  });
});

/** Hosts under `.ssrf.test` resolve to the address their first label spells (`-` for `:`); no real DNS. */
vi.mock('node:dns/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:dns/promises')>();
  const lookup = async (host: string, options: unknown) => {
    const m = /^(.+)\.ssrf\.test$/.exec(host);
    if (!m) return real.lookup(host, options as never);
    const address = m[1]!.replace(/-/g, ':');
    return [{ address, family: address.includes(':') ? 6 : 4 }];
  };
  return { ...real, lookup, default: { ...real, lookup } };
});

describe('sink URL policy (SSRF)', () => {
  const prod = { allowLoopback: false };
  const dev = { allowLoopback: true };

  it('requires https; http only for loopback in development', () => {
    expect(parseSinkUrl('https://hooks.example.com/x', prod).hostname).toBe('hooks.example.com');
    expect(() => parseSinkUrl('http://hooks.example.com/x', prod)).toThrow(UrlRefusedError);
    expect(() => parseSinkUrl('http://127.0.0.1:8080/x', prod)).toThrow(UrlRefusedError);
    expect(parseSinkUrl('http://127.0.0.1:8080/x', dev).port).toBe('8080');
    expect(() => parseSinkUrl('http://hooks.example.com/x', dev)).toThrow(UrlRefusedError);
    expect(() => parseSinkUrl('ftp://example.com', dev)).toThrow(UrlRefusedError);
    expect(() => parseSinkUrl('https://user:pw@example.com', prod)).toThrow(UrlRefusedError);
    expect(() => parseSinkUrl('not a url', prod)).toThrow(UrlRefusedError);
  });

  it.each([
    '10.0.0.1',
    '172.16.5.4',
    '192.168.1.1',
    '169.254.169.254', // cloud metadata
    '127.0.0.1',
    '0.0.0.0',
    '100.64.0.1',
    '::1',
    'fe80::1',
    'fd00:ec2::254', // AWS metadata over IPv6
    '::ffff:10.0.0.1', // IPv4-mapped private
  ])('refuses %s in production', (ip) => {
    expect(isAddressAllowed(ip, prod)).toBe(false);
  });

  it('allows public addresses, loopback only in development, and allow-listed private ranges', () => {
    expect(isAddressAllowed('93.184.216.34', prod)).toBe(true);
    expect(isAddressAllowed('2606:2800:220:1::1', prod)).toBe(true);
    expect(isAddressAllowed('127.0.0.1', dev)).toBe(true);
    expect(isAddressAllowed('169.254.169.254', dev)).toBe(false);
    expect(isAddressAllowed('10.1.2.3', { allowLoopback: false, allowList: ['10.1.0.0/16'] })).toBe(true);
    expect(isAddressAllowed('10.2.2.3', { allowLoopback: false, allowList: ['10.1.0.0/16'] })).toBe(false);
  });
});

describe('sink URL policy: IPv6 forms embedding an IPv4 address (SSRF)', () => {
  const prod = { allowLoopback: false };
  const dev = { allowLoopback: true };
  // Each form with 169.254.169.254 (a9fe:a9fe) or another private IPv4 inside: refused, in
  // production and in development; the same form around a public IPv4 (93.184.216.34 =
  // 5db8:d822) is judged by that address.
  // (Local-use NAT64 places the IPv4 address by a prefix length the URL does not say: the whole
  // range is refused.)
  const refused: [form: string, address: string, embeds: string | null][] = [
    ['IPv4-mapped', '::ffff:a9fe:a9fe', '169.254.169.254'],
    ['IPv4-mapped, dotted', '::ffff:169.254.169.254', '169.254.169.254'],
    ['SIIT IPv4-translated', '::ffff:0:a9fe:a9fe', '169.254.169.254'],
    ['SIIT IPv4-translated, dotted', '::ffff:0:10.0.0.1', '10.0.0.1'],
    ['IPv4-compatible', '::a9fe:a9fe', '169.254.169.254'],
    ['IPv4-compatible, dotted', '::192.168.1.1', '192.168.1.1'],
    ['IPv4-compatible, loopback', '::127.0.0.1', '127.0.0.1'],
    ['NAT64 well-known prefix', '64:ff9b::a9fe:a9fe', '169.254.169.254'],
    ['NAT64 well-known prefix, dotted', '64:ff9b::10.1.2.3', '10.1.2.3'],
    ['NAT64 local-use /48', '64:ff9b:1:a9fe:a9:fe00::', null],
    ['NAT64 local-use /96', '64:ff9b:1::a9fe:a9fe', null],
    ['6to4', '2002:a9fe:a9fe::', '169.254.169.254'],
    ['6to4 with a host part', '2002:a9fe:a9fe:1::1', '169.254.169.254'],
    ['6to4, loopback', '2002:7f00:1::', '127.0.0.1'],
    ['Teredo, server 0.0.0.0 (as in the report)', '2001::a9fe:a9fe', '0.0.0.0'],
    ['Teredo, client 169.254.169.254 (inverted)', '2001:0:5db8:d822:0:0:5601:5601', '169.254.169.254'],
    ['Teredo, server 169.254.169.254', '2001:0:a9fe:a9fe::a247:27dd', '169.254.169.254'],
    ['ISATAP interface id', '2606:2800:220:1:0:5efe:a9fe:a9fe', '169.254.169.254'],
    ['ISATAP interface id (global bit)', '2606:2800:220:1:200:5efe:10.0.0.1', '10.0.0.1'],
  ];
  const allowed: [form: string, address: string][] = [
    ['IPv4-mapped', '::ffff:5db8:d822'],
    ['SIIT IPv4-translated', '::ffff:0:5db8:d822'],
    ['IPv4-compatible', '::5db8:d822'],
    ['NAT64 well-known prefix', '64:ff9b::5db8:d822'],
    ['6to4', '2002:5db8:d822::1'],
    ['Teredo, public server and client', '2001:0:5db8:d822::a247:27dd'],
    ['native IPv6', '2606:2800:220:1:248:1893:25c8:1946'],
  ];

  it.each(refused.filter((r) => r[2] !== null))('%s %s embeds %s', (_form, address, ipv4) => {
    const e = embeddedIpv4(address);
    expect([...e.mapped, ...e.tunnelled]).toContain(ipv4);
  });

  it.each(refused)(
    'refuses %s %s at sink creation and at delivery, in production and development',
    async (_f, address) => {
      expect(isAddressAllowed(address, prod)).toBe(false);
      expect(isAddressAllowed(address, dev)).toBe(false);
      // Sink creation: the URL with the literal, and a name whose DNS answer is that address.
      await expect(validateSinkUrl(`https://[${address}]/hook`, prod)).rejects.toThrow(UrlRefusedError);
      await expect(validateSinkUrl(`https://[${address}]/hook`, dev)).rejects.toThrow(UrlRefusedError);
      const named = `https://${address.replace(/:/g, '-')}.ssrf.test/hook`;
      await expect(validateSinkUrl(named, prod)).rejects.toThrow(UrlRefusedError);
      // Delivery: the URL is checked again (literal and DNS answer) before any connection.
      for (const url of [`https://[${address}]/hook`, named]) {
        const outcome = await postWebhook(url, {}, '{}', { timeoutMs: 1_000, policy: dev });
        expect(outcome.kind).toBe('refused');
      }
    },
  );

  it.each(allowed)('allows %s %s (a public IPv4 or native IPv6)', async (_f, address) => {
    expect(isAddressAllowed(address, prod)).toBe(true);
    await expect(validateSinkUrl(`https://[${address}]/hook`, prod)).resolves.toBeInstanceOf(URL);
    await expect(validateSinkUrl(`https://${address.replace(/:/g, '-')}.ssrf.test/hook`, prod)).resolves.toBeInstanceOf(
      URL,
    );
  });

  it('keeps the IPv6 loopback and the allow-list working', () => {
    expect(isAddressAllowed('::1', dev)).toBe(true);
    expect(isAddressAllowed('::1', prod)).toBe(false);
    expect(isAddressAllowed('::', dev)).toBe(false);
    // An IPv4-mapped loopback is the loopback host itself: development only, like 127.0.0.1.
    expect(isAddressAllowed('::ffff:127.0.0.1', dev)).toBe(true);
    expect(isAddressAllowed('::ffff:127.0.0.1', prod)).toBe(false);
    expect(isAddressAllowed('::ffff:10.1.2.3', { allowLoopback: false, allowList: ['10.1.0.0/16'] })).toBe(true);
  });
});

describe('retry schedule', () => {
  it('grows and ends in dead after the last retry', () => {
    const p = { ...defaultDeliveryPolicy, retryScheduleMs: [10, 20] };
    expect(afterFailure(1, p)).toEqual({ kind: 'retry', delayMs: 10 });
    expect(afterFailure(2, p)).toEqual({ kind: 'retry', delayMs: 20 });
    expect(afterFailure(3, p)).toEqual({ kind: 'dead' });
    const d = defaultDeliveryPolicy.retryScheduleMs;
    expect(d.every((v, i) => i === 0 || v > d[i - 1]!)).toBe(true);
  });
});

describe('Kafka envelope gate', () => {
  const ok = {
    id: crypto.randomUUID(),
    tenantId: crypto.randomUUID(),
    type: 'location.recorded.v1',
    occurredAt: new Date().toISOString(),
    data: {},
  };
  it('accepts envelopes and refuses anything else', () => {
    expect(parseEnvelope(Buffer.from(JSON.stringify(ok)))).toEqual(ok);
    expect(parseEnvelope(Buffer.from('nope'))).toBeNull();
    expect(parseEnvelope(Buffer.from(JSON.stringify({ ...ok, tenantId: 'x' })))).toBeNull();
    expect(parseEnvelope(Buffer.from(JSON.stringify({ ...ok, type: 'Bad Type' })))).toBeNull();
    expect(parseEnvelope(null)).toBeNull();
  });
});
