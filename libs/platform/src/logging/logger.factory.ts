import { pino, type Logger, type LoggerOptions } from 'pino';

/** Keys whose values never reach a log line, at any of the first three nesting levels. */
const SENSITIVE_KEYS = [
  'authorization',
  'cookie',
  'password',
  'secret',
  'token',
  'apiKey',
  'masterKey',
  'email',
  'phone',
  'name',
  'metrics',
];

function redactPaths(): string[] {
  const paths: string[] = ['req.headers', 'res.headers'];
  for (const key of SENSITIVE_KEYS) paths.push(key, `*.${key}`, `*.*.${key}`);
  return paths;
}

export interface LoggerSettings {
  /** Service name, added to every line as `service`. */
  service: string;
  level: string;
  /** Extra fields merged into every line (correlation id, tenant), read at log time. */
  mixin?: () => Record<string, unknown>;
  /** Where lines go; stdout by default. */
  destination?: pino.DestinationStream;
}

/**
 * The process's root pino logger: JSON lines, ISO timestamps, secrets and PII redacted by key
 * (`authorization`, `password`, `token`, `apiKey`, `email`, `phone`, `name`, ...).
 *
 * Redaction by key is a safety net, not a licence: code must not pass PII to the logger at all.
 */
export function createRootLogger(settings: LoggerSettings): Logger {
  const options: LoggerOptions = {
    level: settings.level,
    base: { service: settings.service, pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: redactPaths(), censor: '[redacted]' },
    mixin: settings.mixin,
    formatters: { level: (label) => ({ level: label }) },
  };
  return settings.destination ? pino(options, settings.destination) : pino(options);
}
