import { parseServerUrl } from '#polystore/data-router';
import type { NatsTls } from '#polystore/messaging';
import { z } from 'zod';

/**
 * A zod check of a database server URL's query (its TLS parameters, `sslmode` and
 * `sslrootcert`): a bad or unknown parameter is reported at boot under the variable's name,
 * naming the parameter, never quoting the URL (it may hold a password). Other defects of the URL
 * are left to the variable's own checks.
 */
export function checkServerUrlParameters(value: string, ctx: z.RefinementCtx): void {
  try {
    parseServerUrl(value);
  } catch (error) {
    const message = error instanceof Error ? error.message : '';
    if (message.includes('server URL parameter'))
      ctx.addIssue({ code: 'custom', message: message.replace(/^invalid placement: /, '') });
  }
}

/**
 * NATS_TLS_CA: PEM of the CA(s) that signed the NATS servers' certificates, best given as
 * NATS_TLS_CA_FILE (the file is read at boot; a missing one stops the process, naming it). Set,
 * every NATS connection of the process requires TLS and verifies the servers against it.
 */
export const natsTlsCaVar = z
  .string()
  .refine((pem) => pem.includes('-----BEGIN CERTIFICATE-----'), 'must be PEM certificates (or set NATS_TLS_CA_FILE)')
  .optional();

/** The {@link NatsTls} of a process's configuration (NATS_TLS_CA). */
export function natsTlsOf(config: { readonly NATS_TLS_CA?: string }): NatsTls | undefined {
  return config.NATS_TLS_CA === undefined ? undefined : { ca: config.NATS_TLS_CA };
}
