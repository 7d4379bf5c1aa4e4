/** Structured JSON logger: one line per event, request id bound by child loggers, secrets redacted. */
export { createLogger, type Logger, type LogLevel, type LoggerOptions } from './logger';
export { redact } from './redact';
