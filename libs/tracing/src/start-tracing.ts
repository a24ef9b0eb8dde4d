import { TracingConfigError, tracingSettings } from './tracing-settings.js';

/** The tracing of this process, as {@link startTracing} left it. */
export interface Tracing {
  readonly enabled: boolean;
  /** Exports what is buffered and stops the SDK (a no-op when tracing is off). */
  shutdown(): Promise<void>;
}

const OFF: Tracing = { enabled: false, shutdown: () => Promise.resolve() };

let current: Tracing = OFF;

/**
 * Starts OpenTelemetry tracing for this process as `service`, when the environment asks for it
 * (see `tracingSettings`); otherwise does nothing and loads nothing but `@opentelemetry/api`.
 *
 * Must run before the app's modules are imported: it registers the ESM loader hook
 * (import-in-the-middle) and the instrumentations (HTTP, Fastify, pg, mysql2) that patch those
 * modules as they load, so `main.ts` imports the app dynamically afterwards. A variable that
 * cannot be honoured is printed and the process exits with 1, as for any bad configuration.
 */
export async function startTracing(service: string, env: Record<string, string | undefined>): Promise<Tracing> {
  let settings;
  try {
    settings = tracingSettings(service, env);
  } catch (error) {
    if (!(error instanceof TracingConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  if (!settings.enabled) return OFF;
  const { startSdk } = await import('./internal/sdk.js');
  const shutdown = await startSdk(settings);
  current = { enabled: true, shutdown };
  return current;
}

/** True once {@link startTracing} started the SDK in this process: instrumented code skips its spans otherwise. */
export function isTracing(): boolean {
  return current.enabled;
}

/**
 * Exports the spans still buffered and stops the SDK, before a process exits; waits at most
 * `timeoutMs` (an unreachable collector must not hold a shutdown). Resolves at once when off.
 */
export async function stopTracing(timeoutMs = 2_000): Promise<void> {
  const stopping = current;
  current = OFF;
  if (!stopping.enabled) return;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, timeoutMs);
    timer.unref();
  });
  await Promise.race([stopping.shutdown().catch(() => undefined), late]).finally(() => clearTimeout(timer));
}
