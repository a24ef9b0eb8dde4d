export {
  TracingConfigError,
  tracingSettings,
  type OtlpProtocol,
  type PropagatorName,
  type TracingSettings,
} from './tracing-settings.js';
export { isTracing, startTracing, stopTracing, type Tracing } from './start-tracing.js';
export {
  SpanKind,
  continuesTrace,
  endSpan,
  extractTraceContext,
  injectTraceContext,
  startSpan,
  traced,
  withSpan,
  withTraceLogFields,
  type Context,
  type Span,
  type SpanStart,
  type TraceCarrier,
} from './spans.js';
