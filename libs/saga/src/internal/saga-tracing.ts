import { SpanKind, startSpan, traced, type Span } from '#polystore/tracing';

const SCOPE = 'polystore-saga';

/**
 * Drives saga `id` inside a `saga` span: a child of the request that started it (the drive is
 * spawned in its context), or a new trace when the sweeper resumes it. The span is named after
 * the saga once its record is read ({@link nameSagaSpan}).
 */
export function traceDrive(id: string, drive: (span: Span | undefined) => Promise<void>): Promise<void> {
  const span = startSpan(SCOPE, 'saga', { attributes: { 'polystore.saga.id': id } });
  return traced(span, () => drive(span));
}

export function nameSagaSpan(span: Span | undefined, name: string, version: number): void {
  span?.updateName(`saga ${name}`).setAttributes({ 'polystore.saga.name': name, 'polystore.saga.version': version });
}

/** Runs one attempt of a step's action or compensation inside its own span (its NATS request is the child). */
export function traceStep<T>(
  saga: { readonly id: string; readonly name: string },
  step: string,
  phase: 'action' | 'compensation',
  attempt: number,
  work: () => Promise<T>,
): Promise<T> {
  const span = startSpan(SCOPE, `saga ${saga.name} ${phase === 'action' ? step : `${step} compensation`}`, {
    kind: SpanKind.INTERNAL,
    attributes: {
      'polystore.saga.id': saga.id,
      'polystore.saga.name': saga.name,
      'polystore.saga.step': step,
      'polystore.saga.phase': phase,
      'polystore.saga.attempt': attempt,
    },
  });
  return traced(span, work);
}
