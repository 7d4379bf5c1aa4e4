import { isUuid } from '@lt/context';
import type { EventEnvelope } from '@lt/events';

/** The one validation gate for event-log messages: an envelope, or null for poison. */
export function parseEnvelope(value: string | Buffer | null): EventEnvelope | null {
  if (!value) return null;
  let v: unknown;
  try {
    v = JSON.parse(typeof value === 'string' ? value : value.toString('utf8'));
  } catch {
    return null;
  }
  if (!v || typeof v !== 'object') return null;
  const e = v as Record<string, unknown>;
  if (typeof e['id'] !== 'string' || !isUuid(e['id'])) return null;
  if (typeof e['tenantId'] !== 'string' || !isUuid(e['tenantId'])) return null;
  if (typeof e['type'] !== 'string' || !/^[a-z]+(\.[a-z_]+)*\.v\d+$/.test(e['type'])) return null;
  if (typeof e['occurredAt'] !== 'string' || Number.isNaN(Date.parse(e['occurredAt']))) return null;
  if (!e['data'] || typeof e['data'] !== 'object' || Array.isArray(e['data'])) return null;
  return e as unknown as EventEnvelope;
}
