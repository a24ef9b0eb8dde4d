import type { EventEmitter } from 'node:events';
import { connect, type Socket } from 'node:net';
import type { Connection } from 'mysql2/promise';
import type { DataSource } from 'typeorm';
import { mysqlSslOptions } from './driver-tls.js';
import { failureReason } from './internal/failure.js';
import type { ServerAddress, ServerNode } from './placement.js';

/** What the last check of a node found. */
export type NodeCondition =
  /** Galera: ready, `Synced`, in the primary component. Other servers: reachable. */
  | 'synced'
  /** Reachable but not to be used: joining, donor, desynced, not in the primary component. */
  | 'not-synced'
  /** Refused or lost connections, or did not answer its check. */
  | 'down'
  /** Not checked yet. */
  | 'unknown';

/** One node of a multi-host server URL, as exported to the CLI and metrics. */
export interface ClusterNodeState {
  /** `host:port`. */
  readonly node: string;
  readonly condition: NodeCondition;
  /** `wsrep_local_state_comment` and `wsrep_cluster_status`, or the error code of the last check. */
  readonly detail: string;
  /** Whether the node runs Galera (wsrep). */
  readonly galera: boolean;
  /** `wsrep_cluster_size` as this node sees it. */
  readonly clusterSize?: number;
  /** `wsrep_flow_control_paused`: fraction of time replication was paused by flow control (since the last check). */
  readonly flowControlPaused?: number;
  /** Whether new connections go to this node. */
  readonly current: boolean;
  /** Connections open to it now (this process). */
  readonly connections: number;
}

/** The state of one multi-host server as this process sees it. */
export interface ClusterState {
  /** The server's id (`mysql://host1:port1,host2:port2,...`). */
  readonly server: string;
  readonly nodes: readonly ClusterNodeState[];
  /** Times new connections moved to another node (since start). */
  readonly failovers: number;
}

export interface ClusterOptions {
  /** How often every node is checked while a pool uses the cluster. */
  readonly probeIntervalMs: number;
  readonly connectTimeoutMs: number;
  readonly log?: (message: string) => void;
}

const DEFAULTS: ClusterOptions = { probeIntervalMs: 1_000, connectTimeoutMs: 2_000 };

/** The Galera status variables a check reads (one statement, no privilege needed). */
const STATUS_SQL =
  "SHOW GLOBAL STATUS WHERE Variable_name IN ('wsrep_ready', 'wsrep_local_state', 'wsrep_local_state_comment', " +
  "'wsrep_cluster_status', 'wsrep_cluster_size', 'wsrep_flow_control_paused')";

/** Reads wait for the node to apply what the cluster ordered before them (Galera causality checks). */
const SYNC_WAIT_SQL = 'SET SESSION wsrep_sync_wait = 1';

/** `wsrep_local_state` of a node that is part of the cluster and applying everything (4 = Synced). */
const SYNCED = '4';

/** Error codes of a connection attempt that say the node is not there. */
const DEAD_ON_CONNECT = new Set(['ECONNREFUSED', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

interface NodeEntry extends ServerNode {
  readonly key: string;
  condition: NodeCondition;
  detail: string;
  galera: boolean;
  clusterSize?: number;
  flowControlPaused?: number;
  /** When it was last marked down: a check that started earlier cannot bring it back. */
  downAt: number;
  readonly sockets: Set<Socket>;
  probe?: Promise<Connection>;
}

/**
 * The nodes of a multi-host MySQL/MariaDB server URL (`mysql://user@h1:p1,h2:p2,h3:p3`), a
 * Galera cluster (or MySQL Group Replication), as one server: every new connection goes to the
 * **current** node, which must have passed its last check (Galera: `wsrep_ready = ON`,
 * `wsrep_local_state = 4` (Synced), `wsrep_cluster_status = Primary`). All work stays on that one
 * node while it is healthy (no certification conflicts between our own connections, and a
 * caller's reads see its writes); it moves to the next healthy node, in URL order, when:
 * - a connection to it is refused (marked down at once), or a unit of work on it fails with a
 *   connection-level error (`reportFailure`: every node is checked again at once);
 * - a periodic check (`probeIntervalMs`) finds it down, not synced or out of the primary component.
 * A node marked down loses every connection this process holds to it (pooled ones included), so
 * no unit is handed a connection to it; it is used again once a check finds it synced.
 *
 * One instance per server and login in a process ({@link ClusterMembership.of}); pools register
 * with {@link acquire} / {@link release}, which run the periodic checks while any is open.
 */
export class ClusterMembership {
  private static readonly registry = new Map<string, ClusterMembership>();

  /** The membership of `address` (a multi-host one), shared by the whole process. */
  static of(address: ServerAddress, options: Partial<ClusterOptions> = {}): ClusterMembership {
    // One per server whatever the login, so all of a process's connections follow one node; the
    // checks log in as the first caller's login (they read status variables, which needs no right).
    const key = address.id;
    let membership = ClusterMembership.registry.get(key);
    if (!membership) {
      membership = new ClusterMembership(address, { ...DEFAULTS, ...options });
      ClusterMembership.registry.set(key, membership);
    } else if (Object.keys(options).length > 0) {
      // A router's settings (its logger, its check interval) win over a one-off connection's defaults.
      membership.options = { ...membership.options, ...options };
    }
    return membership;
  }

  /** Every membership of this process (metrics, CLI). */
  static all(): readonly ClusterMembership[] {
    return [...ClusterMembership.registry.values()];
  }

  private readonly nodes: NodeEntry[];
  private current = 0;
  private failovers = 0;
  private users = 0;
  private timer?: NodeJS.Timeout;
  private checking?: Promise<void>;
  private checkedAt = 0;

  private constructor(
    private readonly address: ServerAddress,
    private options: ClusterOptions,
  ) {
    const nodes = address.nodes ?? [{ host: address.host, port: address.port }];
    this.nodes = nodes.map((node) => ({
      ...node,
      key: `${node.host}:${node.port}`,
      condition: 'unknown',
      detail: 'not checked yet',
      galera: false,
      downAt: 0,
      sockets: new Set(),
    }));
  }

  /** The mysql2 `stream` option: opens each new connection to the current node. */
  readonly stream = (): Socket => {
    const node = this.pick();
    const socket = connect(node.port, node.host);
    socket.setNoDelay(true);
    let connected = false;
    socket.once('connect', () => {
      connected = true;
      socket.setKeepAlive(true);
    });
    node.sockets.add(socket);
    socket.once('close', () => node.sockets.delete(socket));
    socket.once('error', (error: NodeJS.ErrnoException) => {
      // Refused: the node is not there. Lost later: check every node now.
      if (!connected && DEAD_ON_CONNECT.has(error.code ?? '')) this.markDown(node, error.code!);
      else this.reportFailure();
    });
    return socket;
  };

  /** Whether the current node runs Galera (as its last check found). */
  isGalera(): boolean {
    return this.nodes[this.current]!.galera;
  }

  /**
   * Galera: every connection of `dataSource`'s pool reads with causality checks
   * (`wsrep_sync_wait = 1`): a read waits until its node has applied every write set the cluster
   * ordered before it, so after a failover a caller still reads its own acknowledged writes. The
   * connection TypeORM opened at `initialize()` is set here; every later one when it is made.
   */
  async readYourWrites(dataSource: DataSource): Promise<void> {
    if (!this.isGalera()) return;
    const pool = (dataSource.driver as unknown as { pool?: EventEmitter }).pool;
    pool?.on('connection', (connection: { query(sql: string, done: () => void): void }) =>
      connection.query(SYNC_WAIT_SQL, () => undefined),
    );
    await dataSource.query(SYNC_WAIT_SQL);
  }

  /** Whether any node passed its last check (or was not checked yet). */
  hasUsableNode(): boolean {
    return this.nodes.some(usable);
  }

  /** A unit of work failed with a connection-level error: check every node now. */
  reportFailure(): void {
    void this.check();
  }

  /**
   * Checks every node unless a check ran within the probe interval; pools call this before their
   * first connection, one-off connections before theirs.
   */
  async ensureChecked(): Promise<void> {
    if (Date.now() - this.checkedAt < this.options.probeIntervalMs) return;
    await this.check();
  }

  /** A pool starts using the cluster: periodic checks run while any does. */
  acquire(): void {
    this.users++;
    if (this.timer) return;
    this.timer = setInterval(() => void this.check(), this.options.probeIntervalMs);
    this.timer.unref();
  }

  /** A pool stopped using the cluster; the last one stops the checks and closes their connections. */
  async release(): Promise<void> {
    this.users = Math.max(0, this.users - 1);
    if (this.users > 0) return;
    clearInterval(this.timer);
    this.timer = undefined;
    await this.checking?.catch(() => undefined);
    await Promise.all(this.nodes.map((node) => this.dropProbe(node)));
  }

  state(): ClusterState {
    return {
      server: this.address.id,
      failovers: this.failovers,
      nodes: this.nodes.map((node, index) => ({
        node: node.key,
        condition: node.condition,
        detail: node.detail,
        galera: node.galera,
        ...(node.clusterSize !== undefined ? { clusterSize: node.clusterSize } : {}),
        ...(node.flowControlPaused !== undefined ? { flowControlPaused: node.flowControlPaused } : {}),
        current: index === this.current,
        connections: node.sockets.size,
      })),
    };
  }

  /** Checks every node (at most one check at a time), then moves off the current node if it failed. */
  check(): Promise<void> {
    this.checking ??= (async () => {
      try {
        const startedAt = Date.now();
        await Promise.all(this.nodes.map((node) => this.checkNode(node, startedAt)));
        this.checkedAt = Date.now();
        this.pick();
      } finally {
        this.checking = undefined;
      }
    })();
    return this.checking;
  }

  /** The current node, moving to the next usable one (URL order, wrapping) when it is not. */
  private pick(): NodeEntry {
    const current = this.nodes[this.current]!;
    if (usable(current)) return current;
    for (let step = 1; step <= this.nodes.length; step++) {
      const index = (this.current + step) % this.nodes.length;
      if (usable(this.nodes[index]!)) {
        this.moveTo(index, `${current.key} is ${current.condition} (${current.detail})`);
        return this.nodes[index]!;
      }
    }
    // Nothing known to be usable: keep trying the nodes in turn rather than one dead one.
    this.current = (this.current + 1) % this.nodes.length;
    return this.nodes[this.current]!;
  }

  private moveTo(index: number, why: string): void {
    this.current = index;
    this.failovers++;
    this.options.log?.(`${this.address.id}: new connections go to ${this.nodes[index]!.key}: ${why}`);
  }

  private markDown(node: NodeEntry, reason: string): void {
    node.downAt = Date.now();
    if (node.condition !== 'down') {
      node.condition = 'down';
      node.detail = reason;
    }
    this.drop(node);
    this.pick();
  }

  /** Closes every connection to `node`: pooled ones leave their pool, busy ones fail their unit. */
  private drop(node: NodeEntry): void {
    for (const socket of node.sockets) socket.destroy();
  }

  private async checkNode(node: NodeEntry, startedAt: number): Promise<void> {
    let found: Pick<NodeEntry, 'condition' | 'detail' | 'galera' | 'clusterSize' | 'flowControlPaused'>;
    try {
      found = readStatus(await this.query(node));
    } catch (error) {
      await this.dropProbe(node);
      found = { condition: 'down', detail: failureReason(error), galera: node.galera };
    }
    // A check that began before the node was marked down says nothing about it now.
    if (found.condition === 'synced' && node.downAt > startedAt) return;
    const wasUsable = node.condition === 'synced';
    Object.assign(node, found);
    if (found.condition !== 'synced') {
      delete node.clusterSize;
      if (wasUsable || node.sockets.size > 0) {
        node.downAt = Date.now();
        this.drop(node);
      }
    }
  }

  private async query(node: NodeEntry): Promise<Array<{ Variable_name: string; Value: string }>> {
    node.probe ??= this.openProbe(node);
    const connection = await node.probe;
    const [rows] = await connection.query({ sql: STATUS_SQL, timeout: this.options.connectTimeoutMs });
    return rows as Array<{ Variable_name: string; Value: string }>;
  }

  private async openProbe(node: NodeEntry): Promise<Connection> {
    const mysql = await import('mysql2/promise');
    const connection = await mysql.createConnection({
      host: node.host,
      port: node.port,
      user: this.address.username,
      password: this.address.password,
      connectTimeout: this.options.connectTimeoutMs,
      ...(this.address.tls ? { ssl: mysqlSslOptions(this.address) } : {}),
    });
    // The check's connection must not keep a process alive.
    (connection as unknown as { connection: { stream: Socket } }).connection.stream.unref();
    connection.on('error', () => void this.dropProbe(node));
    return connection;
  }

  private async dropProbe(node: NodeEntry): Promise<void> {
    const probe = node.probe;
    node.probe = undefined;
    if (!probe) return;
    await probe.then(
      (connection) => connection.destroy(),
      () => undefined,
    );
  }
}

function usable(node: NodeEntry): boolean {
  return node.condition === 'synced' || node.condition === 'unknown';
}

/** What a node's status variables say (no wsrep variables: a plain server, usable when reachable). */
function readStatus(
  rows: Array<{ Variable_name: string; Value: string }>,
): Pick<NodeEntry, 'condition' | 'detail' | 'galera' | 'clusterSize' | 'flowControlPaused'> {
  const status = new Map(rows.map((row) => [row.Variable_name.toLowerCase(), String(row.Value)]));
  if (!status.has('wsrep_ready')) return { condition: 'synced', detail: 'reachable (not Galera)', galera: false };
  const ready = status.get('wsrep_ready') === 'ON';
  const primary = status.get('wsrep_cluster_status') === 'Primary';
  const synced = status.get('wsrep_local_state') === SYNCED;
  const clusterSize = Number(status.get('wsrep_cluster_size') ?? Number.NaN);
  const flowControlPaused = Number(status.get('wsrep_flow_control_paused') ?? Number.NaN);
  return {
    condition: ready && primary && synced ? 'synced' : 'not-synced',
    detail: `${status.get('wsrep_local_state_comment') ?? '?'}, ${status.get('wsrep_cluster_status') ?? '?'}${ready ? '' : ', not ready'}`,
    galera: true,
    ...(Number.isFinite(clusterSize) ? { clusterSize } : {}),
    ...(Number.isFinite(flowControlPaused) ? { flowControlPaused } : {}),
  };
}
