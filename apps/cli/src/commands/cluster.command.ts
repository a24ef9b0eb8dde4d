import { ClusterMembership, parseServerUrl, type ClusterState } from '#polystore/data-router';
import type { Command } from 'commander';
import type { CliRuntime } from '../cli-runtime.js';
import { UsageError } from './arguments.js';

/**
 * `polystore cluster status [server-url]`: each node of a multi-host MySQL/MariaDB server URL
 * (default RELIABLE_SERVER_URL) as the stores' router sees it: reachable, Synced, in the primary
 * component, the cluster size it reports, flow control. Exit 0 when every node is usable, 1
 * otherwise. The URL's password is never printed.
 */
export function registerCluster(program: Command, runtime: CliRuntime): void {
  const cluster = program
    .command('cluster')
    .description('the nodes of a database cluster (Galera) behind a server URL');
  cluster
    .command('status [server-url]')
    .description("each node's state and the cluster size (default: RELIABLE_SERVER_URL)")
    .option('--json', 'print JSON')
    .action((serverUrl: string | undefined, flags: { json?: boolean }) =>
      runtime.runOffline(async () => {
        const url = serverUrl ?? process.env.RELIABLE_SERVER_URL ?? 'mysql://root@127.0.0.1:3306';
        let address;
        try {
          address = parseServerUrl(url);
        } catch (error) {
          throw new UsageError(`server-url: ${error instanceof Error ? error.message : 'not a server URL'}`);
        }
        if (address.dialect !== 'mysql' && address.dialect !== 'mariadb')
          throw new UsageError('server-url: clusters are MySQL or MariaDB (mysql:// or mariadb://)');
        const membership = ClusterMembership.of(address, { probeIntervalMs: 1_000, connectTimeoutMs: 2_000 });
        try {
          await membership.check();
          const state = membership.state();
          process.stdout.write(flags.json ? `${JSON.stringify(state, null, 2)}\n` : describe(state));
          return state.nodes.every((node) => node.condition === 'synced') ? 0 : 1;
        } finally {
          await membership.release();
        }
      }),
    );
}

function describe(state: ClusterState): string {
  const rows = state.nodes.map((node) => [
    node.node,
    node.condition,
    node.detail,
    node.clusterSize === undefined ? '-' : String(node.clusterSize),
    node.flowControlPaused === undefined ? '-' : node.flowControlPaused.toFixed(3),
  ]);
  const header = ['node', 'state', 'detail', 'size', 'flow-control'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    `${cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd()}\n`;
  const usable = state.nodes.filter((node) => node.condition === 'synced').length;
  return `${line(header)}${rows.map(line).join('')}${state.server}: ${usable} of ${state.nodes.length} nodes usable\n`;
}
