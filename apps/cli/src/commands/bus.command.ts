import { chmodSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BUS_SERVICES, busPublicKeyOf, busServerConfig, newBusSeed, type BusService } from '#polystore/messaging';
import { InvalidArgumentError, type Command } from 'commander';
import type { CliRuntime } from '../cli-runtime.js';
import { writeAtomically } from '../files.js';
import { hostArgument, portArgument, UsageError } from './arguments.js';

interface BusConfigFlags {
  dir: string;
  port: number;
  host: string;
  serverName: string;
  tlsCert?: string;
  tlsKey?: string;
}

function serviceArgument(value: string): BusService {
  if (!(BUS_SERVICES as readonly string[]).includes(value))
    throw new InvalidArgumentError(`must be one of ${BUS_SERVICES.join(', ')}`);
  return value as BusService;
}

/** `<dir>/creds/<service>.nk`: the service's NKey seed, what it gets as NATS_NKEY_SEED_FILE. */
export function busSeedFile(dir: string, service: BusService): string {
  return join(resolve(dir), 'creds', `${service}.nk`);
}

/** Creates the seeds that are missing (or, for `renew`, replaces theirs) and rewrites nats.conf. */
function writeBus(flags: BusConfigFlags, renew: readonly BusService[] = []): string {
  const dir = resolve(flags.dir);
  for (const sub of [dir, join(dir, 'creds'), join(dir, 'data')]) {
    mkdirSync(sub, { recursive: true, mode: 0o700 });
    chmodSync(sub, 0o700);
  }
  const users = BUS_SERVICES.map((service) => {
    const file = busSeedFile(dir, service);
    if (renew.includes(service) || !existsSync(file)) writeAtomically(file, `${newBusSeed()}\n`);
    return { service, publicKey: busPublicKeyOf(readFileSync(file, 'utf8')) };
  });
  const conf = join(dir, 'nats.conf');
  writeAtomically(
    conf,
    busServerConfig({
      serverName: flags.serverName,
      host: flags.host,
      port: flags.port,
      storeDir: join(dir, 'data'),
      users,
      ...busTls(flags),
    }),
  );
  return conf;
}

/** `--tls-cert` and `--tls-key` go together: both, or neither (no TLS). */
function busTls(flags: BusConfigFlags): { tls?: { certFile: string; keyFile: string } } {
  if (flags.tlsCert === undefined && flags.tlsKey === undefined) return {};
  if (!flags.tlsCert || !flags.tlsKey) throw new UsageError('--tls-cert and --tls-key must be given together');
  return { tls: { certFile: resolve(flags.tlsCert), keyFile: resolve(flags.tlsKey) } };
}

/** `polystore bus config|revoke`: the authenticated bus's nats-server configuration and credentials. */
export function registerBus(program: Command, runtime: CliRuntime): void {
  const bus = program.command('bus').description('the authenticated bus (nats-server with a user per service)');
  const common = (command: Command) =>
    command
      .requiredOption('--dir <dir>', 'state directory: nats.conf, creds/<service>.nk, data/ (mode 0700)')
      .option('--port <n>', 'client port', portArgument, 4225)
      .option('--host <ip>', 'interface of the client listener', hostArgument, '127.0.0.1')
      .option('--server-name <name>', 'server name', 'polystore-bus')
      .option('--tls-cert <file>', 'PEM certificate of the client port: TLS required (with --tls-key)')
      .option('--tls-key <file>', 'PEM private key of --tls-cert');

  common(bus.command('config'))
    .description('write <dir>/nats.conf, creating a seed for each service that has none (existing ones are kept)')
    .action((flags: BusConfigFlags) =>
      runtime.runOffline(() => {
        process.stdout.write(`${writeBus(flags)}\n`);
        return Promise.resolve(0);
      }),
    );

  common(bus.command('revoke'))
    .description(
      "replace a service's seed: its old credentials are refused once the server reloads (scripts/bus.sh reload)",
    )
    .argument('<service>', BUS_SERVICES.join(' | '), serviceArgument)
    .action((service: BusService, flags: BusConfigFlags) =>
      runtime.runOffline(() => {
        process.stdout.write(`${writeBus(flags, [service])}\n`);
        return Promise.resolve(0);
      }),
    );
}
