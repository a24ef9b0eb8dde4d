import type { StoreName } from '#polystore/catalog';

/** Row count and checksum of one table on one side of a move. */
export interface TableDigest {
  readonly rows: number;
  /** md5 over the sorted md5s of every row's text form (same settings on both sides). */
  readonly checksum: string;
}

/** One copied table, as verified on both sides. */
export interface MovedTable {
  readonly table: string;
  readonly source: TableDigest;
  readonly target: TableDigest;
}

/** What `TenantMover.move` did. Servers are `dialect://host:port`: never a password. */
export interface MoveReport {
  readonly tenant: string;
  readonly store: StoreName;
  readonly database: string;
  readonly from: string;
  readonly to: string;
  readonly tables: readonly MovedTable[];
  /** Sequences whose position was carried over. */
  readonly sequences: number;
  readonly placementVersion: { readonly before: number; readonly after: number };
  /** How long the tenant's writes to this store were held: from the fence to its release. */
  readonly writesPausedMs: number;
  /** Attempts needed to take the fence (each waits briefly, then lets writers through). */
  readonly fenceAttempts: number;
  /** Sessions of the old copy terminated at the switch (their waiting writes fail and are retried). */
  readonly sessionsTerminated: number;
  readonly durationMs: number;
  /**
   * The old copy: kept with `ALLOW_CONNECTIONS false` (PostgreSQL), kept as its tables renamed
   * into {@link sourceTablesMovedTo} while the emptied database itself is dropped (MariaDB/MySQL),
   * or dropped (`--drop-source`).
   */
  readonly sourceDatabase: 'kept, refusing connections' | 'kept, tables renamed away' | 'dropped';
  /** MariaDB/MySQL, kept: the database (`<db>_moved_<yyyymmddhhmmss>`, same server) holding the old tables. */
  readonly sourceTablesMovedTo?: string;
}

/** The report as lines for a terminal. */
export function describeMoveReport(report: MoveReport): string[] {
  const rows = report.tables.reduce((sum, t) => sum + t.target.rows, 0);
  return [
    `moved ${report.store} database ${report.database} of ${report.tenant}: ${report.from} -> ${report.to}`,
    `placement version ${report.placementVersion.before} -> ${report.placementVersion.after}`,
    `writes paused for ${report.writesPausedMs} ms (fence taken in ${report.fenceAttempts} attempt(s), ${report.sessionsTerminated} old session(s) terminated); total ${report.durationMs} ms`,
    `${report.tables.length} tables, ${rows} rows, ${report.sequences} sequences/auto-increment counters copied; counts and checksums match:`,
    ...report.tables.map((t) => `  ${t.table}: ${t.target.rows} rows, ${t.target.checksum}`),
    describeOldCopy(report),
  ];
}

function describeOldCopy(report: MoveReport): string {
  switch (report.sourceDatabase) {
    case 'dropped':
      return `old copy on ${report.from}: dropped`;
    case 'kept, tables renamed away':
      return `old copy on ${report.from}: its tables are in ${report.sourceTablesMovedTo} (${report.database} itself, emptied, was dropped; DROP DATABASE the copy once it is no longer needed)`;
    case 'kept, refusing connections':
      return `old copy on ${report.from}: kept, refusing connections (DROP DATABASE it once it is no longer needed)`;
  }
}
