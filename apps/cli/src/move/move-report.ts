import type { StoreName } from '#polystore/catalog';
import type { PlacementKind } from '#polystore/data-router';

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
  /** The source database (for a schema placement, the shared database holding it). */
  readonly database: string;
  readonly from: string;
  readonly to: string;
  /** The placement's kind before and after (a schema moved to a server of its own, ...). */
  readonly kind: { readonly before: PlacementKind; readonly after: PlacementKind };
  /** Where the data sat and sits: `<database>` or `<database>.<schema>`. */
  readonly location: { readonly before: string; readonly after: string };
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
  readonly sourceDatabase:
    'kept, refusing connections' | 'kept, tables renamed away' | 'kept, schema renamed away' | 'dropped';
  /**
   * Kept: where the old tables are, on the source server: the database `<db>_m<stamp>`
   * (MariaDB/MySQL) or the schema `<schema>_m<stamp>` in the shared database (a schema placement).
   */
  readonly sourceTablesMovedTo?: string;
}

/** The report as lines for a terminal. */
export function describeMoveReport(report: MoveReport): string[] {
  const rows = report.tables.reduce((sum, t) => sum + t.target.rows, 0);
  return [
    `moved the ${report.store} data of ${report.tenant}: ${report.kind.before} ${report.from}/${report.location.before} -> ${report.kind.after} ${report.to}/${report.location.after}`,
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
    case 'kept, schema renamed away':
      return `old copy on ${report.from}: the schema ${report.sourceTablesMovedTo} in ${report.database} (DROP SCHEMA ... CASCADE it once it is no longer needed)`;
    case 'kept, refusing connections':
      return `old copy on ${report.from}: kept, refusing connections (DROP DATABASE it once it is no longer needed)`;
  }
}
