import { register } from 'node:module';
import {
  DiagConsoleLogger,
  DiagLogLevel,
  SpanKind,
  diag,
  type Context,
  type TextMapPropagator,
} from '@opentelemetry/api';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { MySQL2Instrumentation } from '@opentelemetry/instrumentation-mysql2';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import {
  detectResources,
  envDetector,
  hostDetector,
  processDetector,
  resourceFromAttributes,
} from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  NodeTracerProvider,
  type ReadableSpan,
  type Span,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-node';
import { FastifyOtelInstrumentation } from '@fastify/otel';
import { createAddHookMessageChannel } from 'import-in-the-middle';
import type { OtlpProtocol, PropagatorName, TracingSettings } from '../tracing-settings.js';

/** Requests that are not traced: scrapes and probes, which would drown the traces that matter. */
const UNTRACED_PATHS = /^\/(metrics|health)(\/|\?|$)/;

/**
 * Starts the SDK: the ESM loader hook first (so modules imported from now on can be patched),
 * then the tracer provider (batching OTLP exporter, W3C propagation, AsyncLocalStorage context)
 * and the instrumentations. Resolves once the loader knows every module to patch; returns how
 * to flush and stop.
 */
export async function startSdk(settings: Extract<TracingSettings, { enabled: true }>): Promise<() => Promise<void>> {
  if (settings.logLevel) diag.setLogger(new DiagConsoleLogger(), diagLevel(settings.logLevel));

  // import-in-the-middle wraps only the modules that instrumentations ask for (the message
  // channel tells the loader thread which), so other imports are not rewritten.
  const { registerOptions, waitForAllMessagesAcknowledged } = createAddHookMessageChannel();
  register('import-in-the-middle/hook.mjs', import.meta.url, registerOptions);

  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': settings.serviceName, 'service.namespace': 'polystore' }).merge(
      detectResources({ detectors: [envDetector, hostDetector, processDetector] }),
    ),
    // Sampler (OTEL_TRACES_SAMPLER), limits and batching (OTEL_BSP_*) come from the environment.
    spanProcessors: [new WithoutRootQueries(new BatchSpanProcessor(await exporterFor(settings.protocol)))],
  });
  provider.register({ propagator: propagatorOf(settings.propagators) });
  registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (request) => UNTRACED_PATHS.test(request.url ?? ''),
        requireParentforOutgoingSpans: true,
      }),
      // One span for the route's handler; none per hook (the gateway runs several per request).
      new FastifyOtelInstrumentation({ registerOnInitialization: true, instrumentHooks: false }),
      // Statements are recorded without their literals: DDL carries login passwords inline. No
      // span per pool checkout: pool waits are a metric (polystore_pool_wait_seconds).
      new PgInstrumentation({
        requireParentSpan: true,
        ignoreConnectSpans: true,
        requestHook: (span, { query }) => span.setAttribute('db.query.text', withoutLiterals(query.text)),
      }),
      new MySQL2Instrumentation({ maskStatement: true, maskStatementHook: withoutLiterals }),
    ],
  });
  await waitForAllMessagesAcknowledged();
  return () => provider.shutdown();
}

/** `sql` with every quoted string literal replaced by `?` (values are bound, never recorded). */
export function withoutLiterals(sql: string): string {
  return sql.replace(/'(?:[^']|'')*'/g, '?');
}

/** The OTLP/HTTP exporter of `protocol`; it reads its endpoint, headers, timeout and compression from `OTEL_EXPORTER_OTLP_*`. */
async function exporterFor(protocol: OtlpProtocol): Promise<SpanExporter> {
  switch (protocol) {
    case 'http/protobuf':
      return new (await import('@opentelemetry/exporter-trace-otlp-proto')).OTLPTraceExporter();
    case 'http/json':
      return new (await import('@opentelemetry/exporter-trace-otlp-http')).OTLPTraceExporter();
  }
}

function propagatorOf(names: readonly PropagatorName[]): TextMapPropagator {
  return new CompositePropagator({
    propagators: names.map((name) =>
      name === 'tracecontext' ? new W3CTraceContextPropagator() : new W3CBaggagePropagator(),
    ),
  });
}

function diagLevel(level: string): DiagLogLevel {
  const levels: Record<string, DiagLogLevel> = {
    none: DiagLogLevel.NONE,
    error: DiagLogLevel.ERROR,
    warn: DiagLogLevel.WARN,
    info: DiagLogLevel.INFO,
    debug: DiagLogLevel.DEBUG,
    verbose: DiagLogLevel.VERBOSE,
    all: DiagLogLevel.ALL,
  };
  return levels[level] ?? DiagLogLevel.INFO;
}

/**
 * Drops database spans that begin a trace: a query made by a background loop (the outbox relay,
 * a lease renewal outside any request) would otherwise be a one-span trace every few hundred
 * milliseconds. pg skips them at the source (`requireParentSpan`); mysql2 has no such option.
 */
class WithoutRootQueries implements SpanProcessor {
  constructor(private readonly next: SpanProcessor) {}

  onStart(span: Span, parentContext: Context): void {
    this.next.onStart(span, parentContext);
  }

  onEnd(span: ReadableSpan): void {
    const query = span.attributes['db.system'] !== undefined || span.attributes['db.system.name'] !== undefined;
    if (query && span.kind === SpanKind.CLIENT && span.parentSpanContext === undefined) return;
    this.next.onEnd(span);
  }

  forceFlush(): Promise<void> {
    return this.next.forceFlush();
  }

  shutdown(): Promise<void> {
    return this.next.shutdown();
  }
}
