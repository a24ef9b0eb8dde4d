import type { Command } from 'commander';
import { gatewayAdmin } from '../cli-context.js';
import type { CliRuntime } from '../cli-runtime.js';
import { printJson, printTable } from '../output.js';
import { failIfNot } from './gateway-response.js';

interface SagaView {
  id: string;
  name: string;
  state: string;
  tenant: string | null;
  createdAt: string;
  updatedAt: string;
  error?: { code: string; message: string } | null;
  steps?: Array<{
    step: string;
    unknownSince: string | null;
    retryUntil: string | null;
    error?: { code: string } | null;
  }>;
}

/** A step waiting for a store that does not answer, as `<step> since <time> until <time> (<code>)`. */
function waitingOf(saga: SagaView): string {
  const step = saga.steps?.find((s) => s.unknownSince !== null);
  if (!step) return '';
  return `${step.step} since ${step.unknownSince} until ${step.retryUntil ?? 'done'}${step.error ? ` (${step.error.code})` : ''}`;
}

/** Sagas through the gateway's operator API (the gateway drives them). */
export function registerSagas(program: Command, runtime: CliRuntime): void {
  const sagas = program.command('sagas').description('cross-store operations: list, retry or skip a parked one');

  sagas
    .command('list')
    .description('sagas, newest first')
    .option('--state <state>', 'PENDING | RUNNING | COMPENSATING | SUCCEEDED | COMPENSATED | FAILED | PARKED ...')
    .option('--json', 'print JSON')
    .action((flags: { state?: string; json?: boolean }) =>
      runtime.runOffline(async (config) => {
        const query = flags.state ? `?state=${encodeURIComponent(flags.state)}` : '';
        const response = await gatewayAdmin<{ items: SagaView[] }>(config, 'GET', `/admin/sagas${query}`);
        failIfNot(response, 200, '--state');
        if (flags.json) printJson(response.body.items);
        else
          printTable(
            response.body.items.map((s) => ({
              ...s,
              error: s.error ? `${s.error.code}: ${s.error.message}` : '',
              waiting: waitingOf(s),
            })),
            ['id', 'name', 'state', 'tenant', 'createdAt', 'waiting', 'error'],
          );
        return 0;
      }),
    );

  for (const action of ['retry', 'skip'] as const) {
    sagas
      .command(`${action} <id>`)
      .description(
        action === 'retry' ? 'run a parked saga again from where it stopped' : 'mark the parked step done and go on',
      )
      .option('--json', 'print JSON')
      .action((id: string, flags: { json?: boolean }) =>
        runtime.runOffline(async (config) => {
          const response = await gatewayAdmin<SagaView>(
            config,
            'POST',
            `/admin/sagas/${encodeURIComponent(id)}/${action}`,
          );
          failIfNot(response, 200, 'id');
          if (flags.json) printJson(response.body);
          else process.stdout.write(`saga ${response.body.id} (${response.body.name}): ${response.body.state}\n`);
          return 0;
        }),
      );
  }
}
