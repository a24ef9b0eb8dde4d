import { withTraceLogFields } from '#polystore/tracing';
import { pino, type Logger, type LoggerOptions } from 'pino';

/** Keys whose values never reach a log line, at the top level and one level down. */
const SENSITIVE_KEYS = [
  'authorization',
  'cookie',
  'password',
  'secret',
  'token',
  'apiKey',
  'masterKey',
  'storeKey',
  'nkeySeed',
  'signingKey',
  'email',
  'phone',
  'name',
  'metrics',
];

function redactPaths(): string[] {
  const paths: string[] = ['req.headers', 'res.headers'];
  for (const key of SENSITIVE_KEYS) paths.push(key, `*.${key}`);
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
 * (`authorization`, `password`, `token`, `apiKey`, `email`, `phone`, `name`, ...); lines written
 * inside a traced span carry `trace_id` and `span_id`.
 *
 * Redaction by key is a safety net, not a licence: code must not pass PII to the logger at all.
 */
export function createRootLogger(settings: LoggerSettings): Logger {
  const options: LoggerOptions = {
    level: settings.level,
    base: { service: settings.service, pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: redactPaths(), censor: '[redacted]' },
    // With tracing on, every line written inside a span carries its trace_id and span_id.
    mixin: () => withTraceLogFields(settings.mixin?.() ?? {}),
    formatters: { level: (label) => ({ level: label }) },
  };
  // Asynchronous writes: lines logged while a write is in flight go out together, so a busy
  // process makes one write per batch instead of one per line. Flushed at exit by pino.
  return pino(options, settings.destination ?? pino.destination({ dest: 1, sync: false, minLength: 0 }));
}
