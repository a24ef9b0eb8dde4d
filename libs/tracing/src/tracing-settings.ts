/** How traces leave the process: OTLP over HTTP, as protobuf or as JSON. */
export type OtlpProtocol = 'http/protobuf' | 'http/json';

/** Propagation formats this build can read and write (W3C only: no extra propagator package). */
export type PropagatorName = 'tracecontext' | 'baggage';

/** What {@link tracingSettings} read from the environment. */
export type TracingSettings =
  | { readonly enabled: false; readonly reason: string }
  | {
      readonly enabled: true;
      /** `service.name` of every span: `OTEL_SERVICE_NAME` when set, else the app's own name. */
      readonly serviceName: string;
      readonly protocol: OtlpProtocol;
      readonly propagators: readonly PropagatorName[];
      /** `OTEL_LOG_LEVEL`, when set: the SDK's own diagnostics go to stderr at that level. */
      readonly logLevel?: string;
    };

/** A tracing variable that cannot be honoured; the message names it. */
export class TracingConfigError extends Error {
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`Invalid configuration:\n  - ${variable}: ${problem}`);
    this.name = 'TracingConfigError';
  }
}

const PROTOCOLS: readonly string[] = ['http/protobuf', 'http/json'];
const PROPAGATORS: readonly string[] = ['tracecontext', 'baggage'];
const LOG_LEVELS: readonly string[] = ['none', 'error', 'warn', 'info', 'debug', 'verbose', 'all'];

/**
 * Reads the standard `OTEL_*` variables that decide whether and how this process traces.
 *
 * Tracing is on only when an OTLP endpoint is set (`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` or
 * `OTEL_EXPORTER_OTLP_ENDPOINT`), unless `OTEL_SDK_DISABLED=true` or `OTEL_TRACES_EXPORTER=none`.
 * Values this build cannot honour (gRPC, another exporter or propagator) are refused with a
 * {@link TracingConfigError} rather than silently ignored. Pure: reads only `env`.
 */
export function tracingSettings(service: string, env: Record<string, string | undefined>): TracingSettings {
  const value = (name: string): string | undefined => {
    const text = env[name]?.trim();
    return text ? text : undefined;
  };
  if (value('OTEL_SDK_DISABLED')?.toLowerCase() === 'true') return { enabled: false, reason: 'OTEL_SDK_DISABLED' };
  const exporters = (value('OTEL_TRACES_EXPORTER') ?? 'otlp').split(',').map((e) => e.trim().toLowerCase());
  if (exporters.includes('none')) return { enabled: false, reason: 'OTEL_TRACES_EXPORTER=none' };
  if (exporters.some((e) => e !== 'otlp')) throw new TracingConfigError('OTEL_TRACES_EXPORTER', 'must be otlp or none');

  const endpointVariable = value('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT')
    ? 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'
    : 'OTEL_EXPORTER_OTLP_ENDPOINT';
  const endpoint = value(endpointVariable);
  if (!endpoint) return { enabled: false, reason: 'no OTLP endpoint' };
  if (!/^https?:\/\/[^/\s]+/i.test(endpoint))
    throw new TracingConfigError(endpointVariable, 'must be an http:// or https:// URL');

  const protocolVariable = value('OTEL_EXPORTER_OTLP_TRACES_PROTOCOL')
    ? 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL'
    : 'OTEL_EXPORTER_OTLP_PROTOCOL';
  const protocol = value(protocolVariable) ?? 'http/protobuf';
  if (!PROTOCOLS.includes(protocol))
    throw new TracingConfigError(protocolVariable, `must be one of ${PROTOCOLS.join(', ')} (grpc is not built in)`);

  const propagators = (value('OTEL_PROPAGATORS') ?? 'tracecontext,baggage')
    .split(',')
    .map((p) => p.trim().toLowerCase())
    .filter((p) => p !== '' && p !== 'none');
  const unknown = propagators.find((p) => !PROPAGATORS.includes(p));
  if (unknown) throw new TracingConfigError('OTEL_PROPAGATORS', `${unknown} is not built in (tracecontext, baggage)`);

  const logLevel = value('OTEL_LOG_LEVEL')?.toLowerCase();
  if (logLevel !== undefined && !LOG_LEVELS.includes(logLevel))
    throw new TracingConfigError('OTEL_LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}`);

  return {
    enabled: true,
    serviceName: value('OTEL_SERVICE_NAME') ?? service,
    protocol: protocol as OtlpProtocol,
    propagators: propagators as PropagatorName[],
    ...(logLevel !== undefined ? { logLevel } : {}),
  };
}
