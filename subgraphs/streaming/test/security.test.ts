import { describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { decryptSecret, encryptSecret, generateSecret, parseEncryptionKey } from '../src/crypto/secrets';
import { webhookHeaders } from '../src/delivery/signature';
import { isAddressAllowed, parseSinkUrl, UrlRefusedError } from '../src/delivery/urlPolicy';
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
