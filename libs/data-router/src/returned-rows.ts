/**
 * The rows of a `... RETURNING` statement run with `query()`: TypeORM's PostgreSQL driver answers
 * an UPDATE or DELETE with `[rows, count]`, an INSERT or SELECT with the rows alone.
 */
export function returnedRows<T = unknown>(result: unknown): T[] {
  const list = result as unknown[];
  return (Array.isArray(list[0]) ? list[0] : list) as T[];
}
