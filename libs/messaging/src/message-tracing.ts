import type { Attributes } from '@opentelemetry/api';

/** Instrumentation scope of the spans this lib makes (NATS requests, replies and events). */
export const TRACER_SCOPE = 'polystore-messaging';

/**
 * Attributes of a NATS span per the OpenTelemetry messaging conventions: the subject as sent
 * (with its deployment prefix) and the pattern it carries (the low-cardinality name).
 */
export function messagingAttributes(
  operation: 'send' | 'publish' | 'process',
  subject: string,
  pattern: string,
): Attributes {
  return {
    'messaging.system': 'nats',
    'messaging.operation.name': operation,
    'messaging.operation.type': operation === 'publish' ? 'send' : operation,
    'messaging.destination.name': subject,
    'messaging.destination.template': pattern,
  };
}
