import type { Command } from 'commander';
import type { CliRuntime } from '../cli-runtime.js';
import { cliTenantMover } from '../move/cli-mover.js';
import { describeMoveReport } from '../move/move-report.js';
import { printJson } from '../output.js';

interface MoveFlags {
  store: string;
  to: string;
  kind?: string;
  dropSource?: boolean;
  json?: boolean;
}

/** `tenants move <slug> --store <store> --to <server-url>`: see docs/operations.md, "Moving a tenant". */
export function registerTenantMove(tenants: Command, runtime: CliRuntime, slugArgument: (v: string) => string): void {
  tenants
    .command('move <slug>')
    .description(
      "copy a tenant's data to another server or placement kind, verify it, switch its placement (stack keeps running)",
    )
    .requiredOption(
      '--store <store>',
      'the store whose database moves (secure | edge on PostgreSQL, reliable on MariaDB/MySQL)',
    )
    .requiredOption(
      '--to <server-url>',
      'the new server, e.g. postgres://user:password@10.0.0.2:5432 or mysql://user:password@10.0.0.3:3306 (no database)',
    )
    .option(
      '--kind <kind>',
      'the kind on the target: schema (PostgreSQL shared database), database, dedicated (default: the same kind)',
    )
    .option(
      '--drop-source',
      'drop the old copy once the move succeeded (default: keep it, refusing connections / its tables renamed away)',
    )
    .option('--json', 'print the report as JSON')
    .action((slug: string, flags: MoveFlags) =>
      runtime.run(async (cli) => {
        const mover = cliTenantMover(cli);
        const started = performance.now();
        const report = await mover.move({
          slug: slugArgument(slug),
          store: flags.store,
          to: flags.to,
          ...(flags.kind ? { kind: flags.kind } : {}),
          dropSource: flags.dropSource ?? false,
          onProgress: (phase) =>
            process.stderr.write(`tenants move: ${phase} (${Math.round(performance.now() - started)} ms)\n`),
        });
        if (flags.json) printJson(report);
        else process.stdout.write(`${describeMoveReport(report).join('\n')}\n`);
        return 0;
      }),
    );
}
