import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BrokerKeys, brokerServerConfig, type BrokerServerOptions } from '#polystore/device-broker';
import { resolveDeviceBrokerKey } from '#polystore/runtime';
import { InvalidArgumentError, type Command } from 'commander';
import type { CliRuntime } from '../cli-runtime.js';
import type { CliConfig } from '../config.js';
import { writeAtomically } from '../files.js';
import { hostArgument, portArgument, UsageError } from './arguments.js';

/** The flags of `broker config`, as commander hands them over (ports already parsed). */
interface BrokerConfigFlags {
  dir: string;
  serverName: string;
  host: string;
  port?: number;
  mqttPort?: number;
  httpPort?: number;
  mqttTlsCert?: string;
  mqttTlsKey?: string;
  clusterName?: string;
  clusterPort?: number;
  route?: string[];
}

function serverNameArgument(value: string): string {
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(value)) throw new InvalidArgumentError('must match ^[A-Za-z0-9._-]{1,64}$');
  return value;
}

function routeArgument(value: string, previous: string[] = []): string[] {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError('must be a URL like nats-route://host:port');
  }
  if (!['nats-route:', 'nats:'].includes(url.protocol) || !url.hostname || !url.port)
    throw new InvalidArgumentError('must be a URL like nats-route://host:port');
  return [...previous, value];
}

function existingFile(option: string, path: string | undefined): string | undefined {
  if (path === undefined) return undefined;
  const absolute = resolve(path);
  if (!existsSync(absolute)) throw new UsageError(`${option}: ${absolute} does not exist`);
  return absolute;
}

/** The server options the flags and the environment describe; a `UsageError` names a bad option. */
export function brokerOptions(flags: BrokerConfigFlags, config: CliConfig): BrokerServerOptions {
  const dir = resolve(flags.dir);
  const port = flags.port ?? Number(new URL(config.DEVICE_BROKER_URL).port || 4222);
  const mqttPort = flags.mqttPort ?? config.EDGE_MQTT_PORT;
  const certFile = existingFile('--mqtt-tls-cert', flags.mqttTlsCert);
  const keyFile = existingFile('--mqtt-tls-key', flags.mqttTlsKey);
  if ((certFile === undefined) !== (keyFile === undefined))
    throw new UsageError('--mqtt-tls-cert and --mqtt-tls-key go together');
  const clustered = flags.clusterName !== undefined || flags.clusterPort !== undefined || flags.route !== undefined;
  if (clustered && (flags.clusterName === undefined || flags.clusterPort === undefined))
    throw new UsageError('--cluster-name and --cluster-port are both needed for a cluster (--route needs them too)');
  const ports: Array<[string, number | undefined]> = [
    ['--port', port],
    ['--mqtt-port', mqttPort],
    ['--http-port', flags.httpPort],
    ['--cluster-port', flags.clusterPort],
  ];
  const used = ports.filter((entry): entry is [string, number] => entry[1] !== undefined);
  for (const [option, value] of used) {
    const other = used.find(([o, v]) => o !== option && v === value);
    if (other) throw new UsageError(`${option}: port ${value} is also ${other[0]}`);
  }
  return {
    serverName: flags.serverName,
    host: flags.host,
    port,
    mqttPort,
    dataDir: join(dir, 'data'),
    ...(flags.httpPort === undefined ? {} : { httpPort: flags.httpPort }),
    ...(certFile && keyFile ? { mqttTls: { certFile, keyFile } } : {}),
    ...(flags.clusterName !== undefined && flags.clusterPort !== undefined
      ? { cluster: { name: flags.clusterName, port: flags.clusterPort, routes: flags.route ?? [] } }
      : {}),
  };
}

/** `polystore broker config`: the device broker's nats-server configuration. */
export function registerBroker(program: Command, runtime: CliRuntime): void {
  const broker = program.command('broker').description('the device broker (nats-server with MQTT and JetStream)');

  broker
    .command('config')
    .description('write <dir>/nats.conf for one device-broker server (keys derived from DEVICE_BROKER_KEY)')
    .requiredOption('--dir <dir>', 'state directory: nats.conf and data/ (created with mode 0700)')
    .option('--server-name <name>', 'unique per server', serverNameArgument, 'polystore-broker')
    .option('--host <ip>', 'interface of the client and MQTT listeners', hostArgument, '127.0.0.1')
    .option('--port <n>', 'NATS client port (default: the port of DEVICE_BROKER_URL)', portArgument)
    .option('--mqtt-port <n>', 'MQTT port (default: EDGE_MQTT_PORT)', portArgument)
    .option('--http-port <n>', 'monitoring port on 127.0.0.1 (default: none)', portArgument)
    .option('--mqtt-tls-cert <file>', 'PEM certificate: MQTT over TLS (with --mqtt-tls-key)')
    .option('--mqtt-tls-key <file>', 'PEM private key of --mqtt-tls-cert')
    .option('--cluster-name <name>', 'cluster name (the same on every server)', serverNameArgument)
    .option('--cluster-port <n>', 'route port of this server', portArgument)
    .option('--route <url>', "another server's route, nats-route://host:port; repeatable", routeArgument)
    .action((flags: BrokerConfigFlags) =>
      runtime.runOffline((config) => {
        const options = brokerOptions(flags, config);
        const dir = resolve(flags.dir);
        mkdirSync(dir, { recursive: true, mode: 0o700 });
        chmodSync(dir, 0o700);
        mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
        const file = join(dir, 'nats.conf');
        writeAtomically(file, brokerServerConfig(new BrokerKeys(resolveDeviceBrokerKey(config)), options));
        process.stdout.write(`${file}\n`);
        return Promise.resolve(0);
      }),
    );
}
