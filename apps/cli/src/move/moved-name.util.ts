import { assertDatabaseName } from '#polystore/data-router';
import { MoveException } from './move.exception.js';

/**
 * Where a move keeps the old copy on the source server: `<name>_m<yyyymmddhhmmss>` (UTC), a
 * database (MariaDB/MySQL, at most 64 characters) or a schema (PostgreSQL, at most 63). Short
 * enough for the names derived from a tenant id (`ps_reliable_<32 hex>` gives 60).
 */
export function movedName(name: string, at: Date, maxLength: 63 | 64): string {
  const stamp = at.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  const moved = `${name}_m${stamp}`;
  if (moved.length > maxLength) throw MoveException.notSupported(`a name this long (${name})`);
  assertDatabaseName(moved);
  return moved;
}
