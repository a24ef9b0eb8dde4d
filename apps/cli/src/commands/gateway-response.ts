import { UsageError } from './arguments.js';

/** Turns a gateway answer other than `expected` into the error it carries (4xx: the user's). */
export function failIfNot(response: { status: number; body: unknown }, expected: number, argument: string): void {
  if (response.status === expected) return;
  const body = (response.body ?? {}) as { code?: string; message?: string | string[] };
  const message = Array.isArray(body.message) ? body.message.join('; ') : (body.message ?? `HTTP ${response.status}`);
  const text = `${body.code ?? `HTTP_${response.status}`}: ${message}`;
  if (response.status === 400 || response.status === 404 || response.status === 409)
    throw new UsageError(`${argument}: ${text}`);
  throw new Error(`the gateway answered ${response.status}: ${text}`);
}
