#!/usr/bin/env node
import 'reflect-metadata';
import { Command, CommanderError } from 'commander';
import { CliRuntime, ExitCode } from './cli-runtime.js';
import { registerApiKeys } from './commands/api-keys.command.js';
import { registerBroker } from './commands/broker.command.js';
import { registerBus } from './commands/bus.command.js';
import { registerCluster } from './commands/cluster.command.js';
import { registerContextKey } from './commands/context-key.command.js';
import { registerDbRoles } from './commands/db-roles.command.js';
import { registerStoreKey } from './commands/store-key.command.js';
import { registerJobs } from './commands/jobs.command.js';
import { registerKeys } from './commands/keys.command.js';
import { registerMigrate } from './commands/migrate.command.js';
import { registerOps } from './commands/ops.command.js';
import { registerSagas } from './commands/sagas.command.js';
import { registerTenants } from './commands/tenants.command.js';
import { UsageError } from './commands/arguments.js';

/**
 * `npm run cli -- <command>`: operations over all tenants. It reads the same environment as
 * the services (SYSTEM_DB_URL, NATS_URL, NATS_SUBJECT_PREFIX, MASTER_KEY, ...) plus
 * GATEWAY_ADMIN_URL (the gateway's admin port) and ADMIN_TOKEN for what goes through the gateway.
 */
const program = new Command('polystore')
  .description(
    'Polystore operations: tenants, per-tenant migrations, jobs, keys, sagas, the device broker, the ops worker',
  )
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();

const runtime = new CliRuntime();
registerTenants(program, runtime);
registerApiKeys(program, runtime);
registerMigrate(program, runtime);
registerJobs(program, runtime);
registerKeys(program, runtime);
registerSagas(program, runtime);
registerBroker(program, runtime);
registerBus(program, runtime);
registerContextKey(program, runtime);
registerStoreKey(program, runtime);
registerDbRoles(program, runtime);
registerCluster(program, runtime);
registerOps(program, runtime);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // --help and --version exit 0; a usage mistake was already printed by commander.
    process.exitCode = error.exitCode === 0 ? ExitCode.OK : ExitCode.USAGE;
  } else if (error instanceof UsageError) {
    process.stderr.write(`error: ${error.message}\n`);
    process.exitCode = ExitCode.USAGE;
  } else throw error;
}
