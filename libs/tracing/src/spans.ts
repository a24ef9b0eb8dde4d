import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
  type TextMapGetter,
  type TextMapSetter,
} from '@opentelemetry/api';
import { isTracing } from './start-tracing.js';

export { SpanKind, type Context, type Span };

/** Message headers as NATS and JetStream give them: `get` answers '' for a missing header. */
export interface TraceCarrier {
  get(name: string): string;
  set(name: string, value: string): void;
}

const setter: TextMapSetter<Pick<TraceCarrier, 'set'>> = {
  set: (carrier, key, value) => carrier.set(key, value),
};
const getter: TextMapGetter<Pick<TraceCarrier, 'get'>> = {
  keys: () => ['traceparent', 'tracestate', 'baggage'],
  get: (carrier, key) => carrier.get(key) || undefined,
};

/** How a span begins: its kind, attributes, and parent (the active context by default). */
export interface SpanStart {
  readonly kind?: SpanKind;
  readonly attributes?: Attributes;
  readonly parent?: Context;
}

/**
 * A new span of the instrumentation scope `scope`, or undefined when this process does not
 * trace: callers pass the result to {@link endSpan} and {@link withSpan}, which accept
 * undefined, so code that is traced costs one boolean check when tracing is off.
 */
export function startSpan(scope: string, name: string, start: SpanStart = {}): Span | undefined {
  if (!isTracing()) return undefined;
  return trace
    .getTracer(scope)
    .startSpan(name, { kind: start.kind ?? SpanKind.INTERNAL, attributes: start.attributes }, start.parent);
}

/** Runs `work` with `span` as the active span (on `parent`, default the active context); just runs it without a span. */
export function withSpan<T>(span: Span | undefined, work: () => T, parent?: Context): T {
  if (!span) return work();
  return context.with(trace.setSpan(parent ?? context.active(), span), work);
}

/**
 * Ends `span`; with an `error`, marks it failed with the error's code (`error.type`), never its
 * message (messages may carry data that must not leave the process).
 */
export function endSpan(span: Span | undefined, error?: unknown): void {
  if (!span) return;
  if (error !== undefined && error !== null) {
    const code = (error as { code?: unknown }).code;
    const type = typeof code === 'string' ? code : error instanceof Error ? error.name : 'Error';
    span.setAttribute('error.type', type);
    span.setStatus({ code: SpanStatusCode.ERROR, message: type });
  }
  span.end();
}

/** Runs `work` in `span` and ends it when `work` settles (failed if it rejects). */
export async function traced<T>(span: Span | undefined, work: () => Promise<T>, parent?: Context): Promise<T> {
  if (!span) return work();
  try {
    const result = await withSpan(span, work, parent);
    endSpan(span);
    return result;
  } catch (error) {
    endSpan(span, error);
    throw error;
  }
}

/** Writes the trace context of `span` (W3C `traceparent`, `tracestate`, `baggage`) into message headers. */
export function injectTraceContext(span: Span | undefined, headers: Pick<TraceCarrier, 'set'>): void {
  if (!span) return;
  propagation.inject(trace.setSpan(context.active(), span), headers, setter);
}

/**
 * The sender's trace context read from message headers (the root context when they carry none
 * or tracing is off): the parent of the span that handles the message.
 */
export function extractTraceContext(headers: Pick<TraceCarrier, 'get'> | undefined): Context {
  if (!headers || !isTracing()) return ROOT_CONTEXT;
  return propagation.extract(ROOT_CONTEXT, headers, getter);
}

/** True when `parent` (from {@link extractTraceContext}) holds a sender's span: there is a trace to continue. */
export function continuesTrace(parent: Context): boolean {
  return trace.getSpanContext(parent) !== undefined;
}

/**
 * Adds `trace_id` and `span_id` of the active span to a log line's fields (pino mixin), so logs
 * and traces join; `fields` unchanged when there is no span or tracing is off.
 */
export function withTraceLogFields(fields: Record<string, unknown>): Record<string, unknown> {
  if (!isTracing()) return fields;
  const spanContext = trace.getActiveSpan()?.spanContext();
  if (spanContext && trace.isSpanContextValid(spanContext)) {
    fields['trace_id'] = spanContext.traceId;
    fields['span_id'] = spanContext.spanId;
  }
  return fields;
}
