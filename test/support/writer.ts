/** A client writing without pause until stopped, as a move or an outage test needs one. */
export interface Writer<K> {
  /** Ids of every acknowledged write, in order. */
  readonly ids: string[];
  /** Answers seen, counted by outcome (an HTTP status, an error code, ...). */
  readonly statuses: Map<K, number>;
  stop(): Promise<void>;
}

/**
 * Starts a writer: calls `write(n, count)` for n = 0, 1, ... until `stop()`, keeping the id it
 * returns for each acknowledged write (`undefined`: not acknowledged). `count(outcome)` records
 * an answer in `statuses`.
 */
export function startWriter<K>(
  write: (n: number, count: (outcome: K) => void) => Promise<string | undefined>,
): Writer<K> {
  const ids: string[] = [];
  const statuses = new Map<K, number>();
  const count = countInto(statuses);
  let running = true;
  let n = 0;
  const loop = (async () => {
    while (running) {
      const id = await write(n++, count);
      if (id !== undefined) ids.push(id);
    }
  })();
  return {
    ids,
    statuses,
    async stop() {
      running = false;
      await loop;
    },
  };
}

/** A function that counts each outcome it is given in `counts`. */
export function countInto<K>(counts: Map<K, number>): (outcome: K) => void {
  return (outcome) => void counts.set(outcome, (counts.get(outcome) ?? 0) + 1);
}

/** How a test calls the gateway as one tenant. */
export type TenantCall = (method: string, path: string, body?: unknown) => Promise<{ status: number; body: any }>;

/**
 * A client that keeps creating customers until stopped, as an application would during a move:
 * it keeps the id of every `201` and counts every status (a `503` while the tenant's writes are
 * paused, or when a paused write's connection is cut at the switch, is retried by going on).
 */
export function customerWriter(call: TenantCall, domain = 'example.com'): Writer<number> {
  return startWriter<number>(async (n, count) => {
    const response = await call('POST', '/v1/customers', { name: `During ${n}`, email: `during-${n}@${domain}` });
    count(response.status);
    return response.status === 201 ? (response.body.id as string) : undefined;
  });
}
