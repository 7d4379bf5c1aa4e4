/** Keys whose values never reach a log line, whatever their nesting. */
const SECRET_KEY =
  /pass(word)?|secret|token|authorization|cookie|api[-_]?key|invitationcode|^code$|signature|credential/i;
/** Values that look like bearer tokens/JWTs/webhook secrets, wherever they appear. */
const SECRET_VALUE = /(Bearer\s+\S+|eyJ[\w-]+\.[\w-]+\.[\w-]*|whsec_[A-Za-z0-9+/=]+)/g;

/** Deep copy of `value` with secret-looking keys replaced by "[REDACTED]" and tokens masked in strings. */
export function redact(value: unknown, depth = 0): unknown {
  if (depth > 8) return '[TRUNCATED]';
  if (typeof value === 'string') return value.replace(SECRET_VALUE, '[REDACTED]');
  if (value instanceof Error) {
    return {
      name: value.name,
      message: redact(value.message, depth + 1),
      // The stack's first line repeats the message: masked the same way.
      stack: value.stack?.split('\n').slice(0, 6).join('\n').replace(SECRET_VALUE, '[REDACTED]'),
    };
  }
  if (Array.isArray(value)) return value.slice(0, 50).map((v) => redact(v, depth + 1));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = SECRET_KEY.test(k) ? '[REDACTED]' : redact(v, depth + 1);
    }
    return out;
  }
  return value;
}
