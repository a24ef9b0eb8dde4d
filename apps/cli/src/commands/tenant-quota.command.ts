import { InvalidArgumentError, type Command } from 'commander';
import { gatewayAdmin } from '../cli-context.js';
import type { CliRuntime } from '../cli-runtime.js';
import { printJson, printTable } from '../output.js';
import { slugArgument } from './arguments.js';
import { failIfNot } from './gateway-response.js';

interface QuotaUsage {
  limit: number;
  source: string;
  used: number | null;
  measuredAt?: string | null;
}

type Quotas = Record<'devices' | 'customers' | 'storage', QuotaUsage>;

const UNITS: Record<string, number> = { '': 1, k: 1_000, m: 1_000_000, g: 1_000_000_000, t: 1_000_000_000_000 };
const BINARY: Record<string, number> = { ki: 1_024, mi: 1_048_576, gi: 1_073_741_824, ti: 1_099_511_627_776 };

/**
 * A limit as the admin API takes it: a whole number (0 = unlimited), `unlimited` (0), or
 * `default` (null: back to the deployment's `QUOTA_*`). `sizes` also takes `10GB`, `512MiB`, ...
 */
export function limitArgument(value: string, sizes = false): number | null {
  const text = value.trim().toLowerCase();
  if (text === 'default') return null;
  if (text === 'unlimited') return 0;
  const match = sizes ? /^(\d+)\s*(k|m|g|t|ki|mi|gi|ti)?b?$/.exec(text) : /^(\d+)$/.exec(text);
  const factor = match ? (BINARY[match[2] ?? ''] ?? UNITS[match[2] ?? '']) : undefined;
  const n = match && factor !== undefined ? Number(match[1]) * factor : NaN;
  if (!Number.isSafeInteger(n))
    throw new InvalidArgumentError(
      `must be a whole number${sizes ? ' of bytes (or 10GB, 512MiB, ...)' : ''}, unlimited, or default`,
    );
  return n;
}

/** `tenants quota <slug>`: shows a tenant's quotas and usage, or sets its own limits. */
export function registerTenantQuota(tenants: Command, runtime: CliRuntime): void {
  tenants
    .command('quota <slug>')
    .description("show a tenant's quotas and usage; with options, set its own limits (through the gateway)")
    .option('--devices <n>', 'registered devices (0 or unlimited; default: QUOTA_DEVICES)', (v) => limitArgument(v))
    .option('--customers <n>', 'customers (0 or unlimited; default: QUOTA_CUSTOMERS)', (v) => limitArgument(v))
    .option('--storage <bytes>', 'bytes across its stores, e.g. 10GB (default: QUOTA_STORAGE_BYTES)', (v) =>
      limitArgument(v, true),
    )
    .option('--json', 'print JSON')
    .action(
      (
        slug: string,
        flags: { devices?: number | null; customers?: number | null; storage?: number | null; json?: boolean },
      ) =>
        runtime.runOffline(async (config) => {
          const path = `/admin/tenants/${slugArgument(slug)}/quotas`;
          const patch = {
            ...(flags.devices !== undefined ? { devices: flags.devices } : {}),
            ...(flags.customers !== undefined ? { customers: flags.customers } : {}),
            ...(flags.storage !== undefined ? { storageBytes: flags.storage } : {}),
          };
          const setting = Object.keys(patch).length > 0;
          const response = await gatewayAdmin<Quotas>(
            config,
            setting ? 'PUT' : 'GET',
            path,
            setting ? patch : undefined,
          );
          failIfNot(response, 200, setting ? '--devices/--customers/--storage' : 'slug');
          if (flags.json) printJson(response.body);
          else
            printTable(
              (['devices', 'customers', 'storage'] as const).map((name) => {
                const q = response.body[name];
                return {
                  quota: name,
                  used: q.used ?? '?',
                  limit: q.limit === 0 ? 'unlimited' : q.limit,
                  source: q.source,
                  ...(q.measuredAt ? { measuredAt: q.measuredAt } : {}),
                };
              }),
              ['quota', 'used', 'limit', 'source', 'measuredAt'],
            );
          return 0;
        }),
    );
}
