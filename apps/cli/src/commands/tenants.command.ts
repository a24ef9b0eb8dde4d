import { STORE_NAMES, isStoreName, type StoreName } from '#polystore/catalog';
import type { Command } from 'commander';
import { gatewayAdmin } from '../cli-context.js';
import type { CliRuntime } from '../cli-runtime.js';
import { printJson, printTable } from '../output.js';
import { slugArgument, UsageError } from './arguments.js';
import { failIfNot } from './gateway-response.js';
import { registerTenantAdoptLogins } from './tenant-adopt-logins.command.js';
import { registerTenantMove } from './tenant-move.command.js';
import { registerTenantQuota } from './tenant-quota.command.js';

export function storeArgument(value: string): StoreName {
  if (!isStoreName(value)) throw new UsageError(`--store: unknown store "${value}" (${STORE_NAMES.join(', ')})`);
  return value;
}

export function registerTenants(program: Command, runtime: CliRuntime): void {
  const tenants = program.command('tenants').description('organizations and where their databases live');

  tenants
    .command('list')
    .description('every tenant with its status and placements (from the catalog)')
    .option('--json', 'print JSON')
    .action((flags: { json?: boolean }) =>
      runtime.run(async (cli) => {
        const list = await cli.catalogAdmin.listTenants();
        if (flags.json) printJson(list);
        else
          printTable(
            list.map((t) => ({
              slug: t.slug,
              status: t.status,
              created: t.createdAt,
              placements: t.placements
                .map(
                  (p) =>
                    `${p.store}=${p.kind}:${p.server}/${p.database}${p.schema ? `.${p.schema}` : ''} v${p.version}`,
                )
                .join(' '),
            })),
            ['slug', 'status', 'created', 'placements'],
          );
        return 0;
      }),
    );

  tenants
    .command('create <slug>')
    .description('create a tenant and its databases (through the gateway); prints its API key once')
    .option('--name <name>', 'display name (default: the slug)')
    .option(
      '--placement <store=kind[@server-url]>',
      'where one store places the tenant: kind schema, database or dedicated (dedicated needs @server-url); repeatable',
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .option('--json', 'print JSON')
    .action((slug: string, flags: { name?: string; placement?: string[]; json?: boolean }) =>
      runtime.runOffline(async (config) => {
        const response = await gatewayAdmin<{ slug: string; apiKey: string; status: string }>(
          config,
          'POST',
          '/admin/tenants',
          {
            slug: slugArgument(slug),
            name: flags.name ?? slug,
            ...(flags.placement ? { placements: flags.placement.map(placementArgument) } : {}),
          },
        );
        failIfNot(response, 201, 'slug');
        if (flags.json) printJson(response.body);
        else
          process.stdout.write(
            `tenant ${response.body.slug} created\nAPI key (shown once, keep it): ${response.body.apiKey}\n`,
          );
        return 0;
      }),
    );

  tenants
    .command('delete <slug>')
    .description('delete a tenant (through the gateway): its data is kept for the grace period, then destroyed')
    .option('--json', 'print JSON')
    .action((slug: string, flags: { json?: boolean }) =>
      runtime.runOffline(async (config) => {
        const response = await gatewayAdmin<{ id: string; purgeAfter: string } | undefined>(
          config,
          'DELETE',
          `/admin/tenants/${slugArgument(slug)}`,
        );
        // 200: kept for its grace period (restorable by id); 204: destroyed at once.
        if (response.status !== 200) failIfNot(response, 204, 'slug');
        const kept = response.status === 200 ? response.body! : null;
        if (flags.json)
          printJson({ slug, deleted: true, ...(kept ? { id: kept.id, purgeAfter: kept.purgeAfter } : {}) });
        else if (kept)
          process.stdout.write(
            `tenant ${slug} deleted; its data is kept until ${kept.purgeAfter} (restore: tenants restore ${kept.id})\n`,
          );
        else process.stdout.write(`tenant ${slug} deleted\n`);
        return 0;
      }),
    );

  tenants
    .command('restore <id>')
    .description('bring back a deleted tenant within its grace period, with a new API key (printed once)')
    .option('--slug <slug>', 'the slug to take (default: the one it had, if still free)')
    .option('--json', 'print JSON')
    .action((id: string, flags: { slug?: string; json?: boolean }) =>
      runtime.runOffline(async (config) => {
        const response = await gatewayAdmin<{ slug: string; apiKey: string }>(
          config,
          'POST',
          `/admin/tenants/${encodeURIComponent(id)}/restore`,
          flags.slug !== undefined ? { slug: slugArgument(flags.slug) } : {},
        );
        failIfNot(response, 200, flags.slug !== undefined ? '--slug' : 'id');
        if (flags.json) printJson(response.body);
        else
          process.stdout.write(
            `tenant ${response.body.slug} restored; API key (shown once):\n${response.body.apiKey}\n`,
          );
        return 0;
      }),
    );

  tenants
    .command('purge <id>')
    .description("destroy a deleted tenant's data now (it can no longer be restored)")
    .action((id: string) =>
      runtime.runOffline(async (config) => {
        const response = await gatewayAdmin(config, 'POST', `/admin/tenants/${encodeURIComponent(id)}/purge`);
        failIfNot(response, 204, 'id');
        process.stdout.write(`deleted tenant ${id} purged\n`);
        return 0;
      }),
    );

  registerTenantMove(tenants, runtime, slugArgument);
  registerTenantQuota(tenants, runtime);
  registerTenantAdoptLogins(tenants, runtime);
}

/** `store=kind[@server-url]` as the admin API takes it; the gateway validates the values. */
function placementArgument(value: string): { store: string; kind: string; server?: string } {
  const match = /^([a-z]+)=([a-z]+)(?:@(.+))?$/.exec(value);
  if (!match)
    throw new Error(`--placement must look like store=kind[@server-url], e.g. secure=dedicated@postgres://host:5432`);
  return { store: match[1]!, kind: match[2]!, ...(match[3] ? { server: match[3] } : {}) };
}
