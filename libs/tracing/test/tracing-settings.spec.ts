import { describe, expect, it } from '@jest/globals';
import { TracingConfigError, tracingSettings } from '#polystore/tracing';

const ENDPOINT = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' };

describe('tracing - settings from the OTEL_* environment', () => {
  it('off without an OTLP endpoint, with OTEL_SDK_DISABLED=true, or with OTEL_TRACES_EXPORTER=none', () => {
    expect(tracingSettings('gateway', {})).toMatchObject({ enabled: false });
    expect(tracingSettings('gateway', { OTEL_EXPORTER_OTLP_ENDPOINT: '  ' })).toMatchObject({ enabled: false });
    expect(tracingSettings('gateway', { ...ENDPOINT, OTEL_SDK_DISABLED: 'TRUE' })).toMatchObject({ enabled: false });
    expect(tracingSettings('gateway', { ...ENDPOINT, OTEL_TRACES_EXPORTER: 'none' })).toMatchObject({ enabled: false });
  });

  it('on with an endpoint: http/protobuf by default, the app name as service.name, W3C propagation', () => {
    expect(tracingSettings('secure-store', ENDPOINT)).toEqual({
      enabled: true,
      serviceName: 'secure-store',
      protocol: 'http/protobuf',
      propagators: ['tracecontext', 'baggage'],
    });
    expect(tracingSettings('gateway', { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://c/v1/traces' })).toMatchObject({
      enabled: true,
    });
  });

  it('the traces-specific variables win over the general ones; OTEL_SERVICE_NAME names the service', () => {
    const settings = tracingSettings('gateway', {
      ...ENDPOINT,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
      OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json',
      OTEL_SERVICE_NAME: 'edge-gateway',
      OTEL_PROPAGATORS: 'tracecontext',
      OTEL_LOG_LEVEL: 'DEBUG',
    });
    expect(settings).toEqual({
      enabled: true,
      serviceName: 'edge-gateway',
      protocol: 'http/json',
      propagators: ['tracecontext'],
      logLevel: 'debug',
    });
  });

  it('a value this build cannot honour is refused, naming the variable', () => {
    const refused = (env: Record<string, string>) => {
      try {
        tracingSettings('gateway', { ...ENDPOINT, ...env });
      } catch (error) {
        return error instanceof TracingConfigError ? error.variable : error;
      }
      return undefined;
    };
    expect(refused({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toBe('OTEL_EXPORTER_OTLP_PROTOCOL');
    expect(refused({ OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'grpc' })).toBe('OTEL_EXPORTER_OTLP_TRACES_PROTOCOL');
    expect(refused({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' })).toBe('OTEL_EXPORTER_OTLP_ENDPOINT');
    expect(refused({ OTEL_TRACES_EXPORTER: 'zipkin' })).toBe('OTEL_TRACES_EXPORTER');
    expect(refused({ OTEL_PROPAGATORS: 'b3' })).toBe('OTEL_PROPAGATORS');
    expect(refused({ OTEL_LOG_LEVEL: 'loud' })).toBe('OTEL_LOG_LEVEL');
  });
});
