import { commonConfigShape } from '#polystore/runtime';
import { intVar, urlVar } from '#polystore/platform';
import { z } from 'zod';

/** Environment of the CLI: the same variables as the services, plus where the gateway is. */
export const cliConfigSchema = z.object({
  ...commonConfigShape,
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('warn'),
  /** The gateway, for what goes through it (tenant creation and deletion are sagas there). */
  GATEWAY_URL: urlVar(['http:', 'https:'], 'http://127.0.0.1:3000'),
  BASE_DOMAIN: z.string().trim().toLowerCase().default('localhost'),
  ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  /** Lease of a CLI run: how soon a run of a killed CLI can be resumed. */
  JOB_LEASE_MS: intVar(15_000, 100, 600_000),
});

export type CliConfig = z.output<typeof cliConfigSchema>;
