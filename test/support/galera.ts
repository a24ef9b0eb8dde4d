import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { eventually } from './eventually.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SCRIPT = `${ROOT}scripts/galera.sh`;
const STATE = process.env.GALERA_DIR ?? `${ROOT}.polystore/galera`;
const PORT_BASE = Number(process.env.GALERA_PORT_BASE ?? 3306);

/** Node numbers of the project's development cluster (`scripts/galera.sh`). */
export type GaleraNode = 1 | 2 | 3;
export const GALERA_NODES: readonly GaleraNode[] = [1, 2, 3];

/**
 * The 3-node MariaDB Galera cluster of `scripts/galera.sh` (ports 3307-3309), driven the way an
 * operator would: the script to start, join and recover nodes, `kill -9` to lose one.
 */
export const Galera = {
  /** `mysql://root@127.0.0.1:3307,127.0.0.1:3308,127.0.0.1:3309`. */
  url: `mysql://root@${GALERA_NODES.map((n) => `127.0.0.1:${PORT_BASE + n}`).join(',')}`,

  port(node: GaleraNode): number {
    return PORT_BASE + node;
  },

  /** `scripts/galera.sh <args>`; its output (the script fails loudly, with the node's log). */
  async script(...args: string[]): Promise<string> {
    const { stdout, stderr } = await run(SCRIPT, args, { cwd: ROOT, timeout: 240_000 });
    return `${stdout}${stderr}`;
  },

  /** Starts whatever node is down (bootstrapping or recovering the cluster if none runs). */
  async start(): Promise<void> {
    await Galera.script('start');
  },

  pid(node: GaleraNode): number {
    return Number(readFileSync(`${STATE}/node${node}/mariadbd.pid`, 'utf8').trim());
  },

  /** SIGKILL, then waits until the process is gone (not a zombie). */
  async kill(node: GaleraNode): Promise<void> {
    const pid = Galera.pid(node);
    process.kill(pid, 'SIGKILL');
    await eventually(() => !alive(pid), { timeoutMs: 10_000, what: `node ${node} (pid ${pid}) to die` });
  },

  /** One statement on one node (a connection of its own). */
  async query<R = Record<string, unknown>>(node: GaleraNode, sql: string, params: unknown[] = []): Promise<R[]> {
    const mysql = await import('mysql2/promise');
    const connection = await mysql.createConnection({
      host: '127.0.0.1',
      port: Galera.port(node),
      user: 'root',
      connectTimeout: 2_000,
    });
    try {
      const [rows] = await connection.query(sql, params);
      return rows as R[];
    } finally {
      await connection.end().catch(() => undefined);
    }
  },

  /** `wsrep_local_state_comment` and `wsrep_cluster_size` of a node, or 'down'. */
  async state(node: GaleraNode): Promise<string> {
    try {
      const rows = await Galera.query<{ Variable_name: string; Value: string }>(
        node,
        "SHOW GLOBAL STATUS WHERE Variable_name IN ('wsrep_local_state_comment', 'wsrep_cluster_size')",
      );
      const status = new Map(rows.map((r) => [r.Variable_name.toLowerCase(), r.Value]));
      return `${status.get('wsrep_local_state_comment')} ${status.get('wsrep_cluster_size')}`;
    } catch {
      return 'down';
    }
  },

  /** The node holding the most client connections (the one the stores are working on). */
  async busiest(): Promise<GaleraNode> {
    let best: { node: GaleraNode; n: number } | undefined;
    for (const node of GALERA_NODES) {
      const rows = await Galera.query<{ n: number }>(
        node,
        "SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE USER <> 'system user' AND ID <> CONNECTION_ID()",
      ).catch(() => [{ n: -1 }]);
      const n = Number(rows[0]!.n);
      if (!best || n > best.n) best = { node, n };
    }
    return best!.node;
  },
};

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch {
    return false;
  }
}
