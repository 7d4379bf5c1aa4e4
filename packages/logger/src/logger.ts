import { redact } from './redact';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

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
  /** Where lines go. Default: process.stdout. Tests pass an array push. */
  write?: (line: string) => void;
  now?: () => Date;
}

/** Creates a JSON-lines logger. Secrets are redacted by key and by value shape. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const min = ORDER[options.level ?? 'info'];
  const write = options.write ?? ((line: string) => process.stdout.write(line + '\n'));
  const now = options.now ?? (() => new Date());
  const bindings = options.bindings ?? {};
  const log = (level: Exclude<LogLevel, 'silent'>, msg: string, fields?: Record<string, unknown>): void => {
    if (ORDER[level] < min) return;
    const line = redact({ time: now().toISOString(), level, ...bindings, msg, ...fields });
    write(JSON.stringify(line));
  };
  return {
    debug: (m, f) => log('debug', m, f),
    info: (m, f) => log('info', m, f),
    warn: (m, f) => log('warn', m, f),
    error: (m, f) => log('error', m, f),
    child: (more) => createLogger({ ...options, bindings: { ...bindings, ...more } }),
  };
}
