import { createHmac } from 'node:crypto';
import { secretKeyBytes } from '../crypto/secrets';

/** Standard Webhooks headers for one attempt. */
export interface WebhookHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

/** `v1,<base64 HMAC-SHA256 of "id.timestamp.body">` for one secret. */
export function signatureFor(secret: string, id: string, timestampSeconds: number, body: string): string {
  const mac = createHmac('sha256', secretKeyBytes(secret)).update(`${id}.${timestampSeconds}.${body}`).digest('base64');
  return `v1,${mac}`;
}

/**
 * Headers for a delivery. Several secrets (current first, then a rotated one still in its grace
 * period) give space-separated signatures: receivers accept the request if any matches.
 */
export function webhookHeaders(
  secrets: readonly string[],
  id: string,
  body: string,
  timestampSeconds: number,
): WebhookHeaders {
  if (secrets.length === 0) throw new TypeError('webhookHeaders: no secret');
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': secrets.map((s) => signatureFor(s, id, timestampSeconds, body)).join(' '),
  };
}
