import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const ENTRY = `${ROOT}/dist/libs/tracing/src/index.js`;

/**
 * Starts tracing in a fresh Node process from the built lib (as an app's main.ts does) and
 * reports what it started and which OpenTelemetry modules that process then holds.
 */
function probe(env: Record<string, string>): {
  enabled: boolean;
  tracing: boolean;
  recording: boolean;
  modules: string[];
} {
  const script = `
    import { createRequire } from 'node:module';
    import { trace } from '@opentelemetry/api';
    const { startTracing, isTracing, stopTracing } = await import(${JSON.stringify(ENTRY)});
    const tracing = await startTracing('probe', process.env);
    const modules = Object.keys(createRequire(import.meta.url).cache)
      .map((path) => path.match(/node_modules\\/((?:@[^/]+\\/)?[^/]+)\\//)?.[1])
      .filter((name) => name && (name.startsWith('@opentelemetry/') || name.endsWith('-in-the-middle') || name === '@fastify/otel'));
    const recording = trace.getTracer('probe').startSpan('probe').isRecording();
    process.stdout.write(JSON.stringify({ enabled: tracing.enabled, tracing: isTracing(), recording, modules: [...new Set(modules)] }));
    await stopTracing();
  `;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    encoding: 'utf8',
    timeout: 20_000,
  });
  if (child.status !== 0) throw new Error(`probe failed (${child.status}): ${child.stderr}`);
  return JSON.parse(child.stdout);
}

describe('tracing - off costs nothing: no SDK, no hook, no instrumentation (built lib, real process)', () => {
  it('without an OTLP endpoint nothing starts and only @opentelemetry/api is loaded', () => {
    if (!existsSync(ENTRY)) throw new Error('dist/ is missing: run `npm run build` (npm test does it first)');
    const off = probe({});
    expect(off).toEqual({ enabled: false, tracing: false, recording: false, modules: ['@opentelemetry/api'] });
    expect(probe({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9', OTEL_SDK_DISABLED: 'true' })).toEqual(off);
  });

  it('with an endpoint the SDK, the ESM hook and the instrumentations are there (the probe sees a difference)', () => {
    const on = probe({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9', OTEL_BSP_SCHEDULE_DELAY: '60000' });
    expect(on).toMatchObject({ enabled: true, tracing: true, recording: true });
    expect(on.modules).toEqual(
      expect.arrayContaining([
        '@opentelemetry/sdk-trace-node',
        '@opentelemetry/instrumentation-pg',
        '@opentelemetry/instrumentation-mysql2',
        '@opentelemetry/instrumentation-http',
        '@fastify/otel',
        'import-in-the-middle',
      ]),
    );
  });
});
