import { parseTenantSlug } from '#polystore/tenancy';
import type { Command } from 'commander';
import type { CliRuntime } from '../cli-runtime.js';
import { printJson, printTable } from '../output.js';
import { slugArgument } from './arguments.js';

/**
 * `tenants adopt-logins [slug...]`: gives each `database` or `dedicated` PostgreSQL placement
 * recorded before placements had logins of their own the login it would get today, in place
 * (docs/security.md, "`database` and `dedicated` placements get a login of their own"). Exits 1
 * when any placement failed (the report names it); running it again is harmless.
 */
export function registerTenantAdoptLogins(tenants: Command, runtime: CliRuntime): void {
  tenants
    .command('adopt-logins [slugs...]')
    .description(
      "give database/dedicated PostgreSQL placements made before placement logins their own login, in place (default: every tenant's)",
    )
    .option('--json', 'print the report as JSON')
    .action((slugs: string[], flags: { json?: boolean }) =>
      runtime.run(async (cli) => {
        const report = await cli.catalogAdmin.adoptPlacementLogins(
          slugs.length > 0 ? slugs.map((slug) => parseTenantSlug(slugArgument(slug))) : undefined,
        );
        if (flags.json) printJson(report);
        else {
          const rows = [
            ...report.adopted.map((p) => ({
              tenant: p.slug,
              store: p.store,
              result: `adopted (${p.objects} objects)`,
            })),
            ...report.failed.map((p) => ({ tenant: p.slug, store: p.store, result: `${p.code}: ${p.message}` })),
          ];
          if (rows.length === 0) process.stdout.write('every placement has its own login already\n');
          else printTable(rows, ['tenant', 'store', 'result']);
        }
        return report.failed.length === 0 ? 0 : 1;
      }),
    );
}
