/**
 * Structured logging on pino: one JSON line per event (or readable lines on a terminal), request id
 * bound by child loggers, secrets redacted.
 */
export {
  createLogger,
  logFormat,
  prettyLine,
  type Logger,
  type LogFormat,
  type LogLevel,
  type LoggerOptions,
} from './logger';
export { redact } from './redact';
