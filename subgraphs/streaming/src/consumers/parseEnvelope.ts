import { validateEnvelope, type EventEnvelope } from '@lt/events';

/**
 * The one validation gate for event-log messages: an envelope whose type the @lt/events registry
 * knows, or null for poison. The payload is forwarded as written (not re-validated here).
 */
export function parseEnvelope(value: string | Buffer | null): EventEnvelope | null {
  if (!value) return null;
  let v: unknown;
  try {
    v = JSON.parse(typeof value === 'string' ? value : value.toString('utf8'));
  } catch {
    return null;
  }
  const envelope = validateEnvelope(v);
  return envelope.ok ? envelope.value : null;
}
