import pino, { type DestinationStream } from 'pino';
import { prettyFactory } from 'pino-pretty';
import { redact } from './redact';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
/** `json`: one JSON object per line (machines, production). `pretty`: readable lines (a person at a terminal). */
export type LogFormat = 'json' | 'pretty';

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  /** A logger that adds `bindings` (e.g. `{ requestId }`) to every line. */
  child(bindings: Record<string, unknown>): Logger;
}

export interface LoggerOptions {
  /** Minimum level written. Default `info`. */
  level?: LogLevel;
  /** Fields on every line, e.g. `{ service: 'router' }`. */
  bindings?: Record<string, unknown>;
  /** Default `json`. See {@link logFormat}. */
  format?: LogFormat;
  /** Where lines go, one call per line, without the newline. Default: process.stdout. Tests pass an array push. */
  write?: (line: string) => void;
  now?: () => Date;
}

/**
 * The format for a `LOG_FORMAT` setting: `auto` is readable lines when stdout is a terminal and
 * not in production, JSON lines otherwise (piped, collected, in a container, in production).
 */
export function logFormat(
  setting: 'auto' | LogFormat,
  production: boolean,
  tty: boolean = process.stdout.isTTY === true,
): LogFormat {
  if (setting !== 'auto') return setting;
  return tty && !production ? 'pretty' : 'json';
}

/** pino-pretty, one line per event: `[12:00:00.000] INFO: router: msg {"requestId":"…"}`. */
export function prettyLine(options: { colorize?: boolean } = {}): (jsonLine: string) => string {
  const format = prettyFactory({
    colorize: options.colorize ?? (process.stdout.isTTY === true && !process.env['NO_COLOR']),
    singleLine: true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'service',
    messageFormat: '{if service}{service}: {end}{msg}',
  });
  return (line) => format(line).replace(/\n$/, '');
}

/**
 * A pino logger behind our small API: JSON lines `{ level, time, ...bindings, ...fields, msg }`
 * (level as its name, time as ISO 8601), or pino-pretty's readable lines. Every field, binding
 * and message passes {@link redact} first: secrets are masked by key and by value shape.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const now = options.now ?? (() => new Date());
  const write = options.write ?? ((line: string) => process.stdout.write(line + '\n'));
  const pretty = options.format === 'pretty' ? prettyLine() : undefined;
  // pino writes each line synchronously to this stream, newline-terminated.
  const destination: DestinationStream = {
    write: (chunk: string) => {
      const line = chunk.endsWith('\n') ? chunk.slice(0, -1) : chunk;
      write(pretty ? pretty(line) : line);
    },
  };
  const root = pino(
    {
      level: options.level ?? 'info',
      base: undefined,
      timestamp: () => `,"time":"${now().toISOString()}"`,
      formatters: { level: (label) => ({ level: label }) },
      // redact() already turned errors into { name, message, stack }: keep them as they are.
      serializers: { err: (v: unknown) => v },
    },
    destination,
  );
  return wrap(root, redact(options.bindings ?? {}) as Record<string, unknown>);
}

/**
 * Bindings are merged here and each logger is one pino child of the root, so a child's binding
 * replaces its parent's (`service`, say) instead of repeating the key on the line.
 */
function wrap(root: pino.Logger, bindings: Record<string, unknown>): Logger {
  const p = root.child(bindings);
  // The level check first: a disabled level costs no redaction copy.
  const log = (level: Exclude<LogLevel, 'silent'>, msg: string, fields?: Record<string, unknown>): void => {
    if (!p.isLevelEnabled(level)) return;
    p[level](fields ? (redact(fields) as Record<string, unknown>) : {}, redact(msg) as string);
  };
  return {
    debug: (m, f) => log('debug', m, f),
    info: (m, f) => log('info', m, f),
    warn: (m, f) => log('warn', m, f),
    error: (m, f) => log('error', m, f),
    child: (more) => wrap(root, { ...bindings, ...(redact(more) as Record<string, unknown>) }),
  };
}
