/** The outcome of {@link AdmissionGate.admit}. */
export type Admission =
  | { readonly admitted: true; readonly release: () => void }
  | { readonly admitted: false; readonly used: number; readonly inFlight: number };

interface KeyState {
  inFlight: number;
  /** Admissions between their count and their decision: the state must outlive them. */
  deciding: number;
  /** Bumped by every release: a count taken before a release may have missed the released work's row. */
  releases: number;
  waiters: Set<() => void>;
}

/**
 * Admits creations against a limit within one process, counting both what the store holds and
 * what this process admitted and has not yet settled (a device registration saga whose registry
 * row may not be written yet). At the edge it waits for in-flight work to settle instead of
 * refusing, so it never refuses on a double count (a row already written and still in flight),
 * and it refuses only when nothing is in flight and the store's count reached the limit.
 *
 * A count taken while some admitted work was released is taken again: the released work's row
 * may be missing from it while it no longer counts as in flight. Across processes nothing is
 * shared: two gateways can each admit the last free place at the same instant (see the
 * gateway's quota docs for the bound).
 */
export class AdmissionGate {
  private readonly states = new Map<string, KeyState>();

  /**
   * Admits one creation for `key` when `count()` (what the store holds) plus this process's
   * in-flight admissions is below `limit`; waits for in-flight work to settle, until `deadline`
   * (epoch ms), when it is not. The caller must call `release` once the work has settled
   * (its row written, or undone).
   */
  async admit(key: string, limit: number, count: () => Promise<number>, deadline: number): Promise<Admission> {
    for (;;) {
      const state = this.state(key);
      const releases = state.releases;
      let used: number;
      state.deciding += 1;
      try {
        used = await count();
      } catch (error) {
        state.deciding -= 1;
        this.forgetIfIdle(key);
        throw error;
      }
      state.deciding -= 1;
      if (state.releases !== releases) continue;
      if (used + state.inFlight < limit) {
        state.inFlight += 1;
        return { admitted: true, release: once(() => this.release(key)) };
      }
      if (state.inFlight === 0 || !(await this.settled(state, deadline))) {
        const inFlight = state.inFlight;
        this.forgetIfIdle(key);
        return { admitted: false, used, inFlight };
      }
    }
  }

  /** Keys with admissions in flight or waiters (tests, metrics). */
  get size(): number {
    return this.states.size;
  }

  private state(key: string): KeyState {
    let state = this.states.get(key);
    if (!state) {
      state = { inFlight: 0, deciding: 0, releases: 0, waiters: new Set() };
      this.states.set(key, state);
    }
    return state;
  }

  private release(key: string): void {
    const state = this.states.get(key);
    if (!state) return;
    state.inFlight -= 1;
    state.releases += 1;
    for (const wake of [...state.waiters]) wake();
    this.forgetIfIdle(key);
  }

  /** Resolves true at the next release, false at `deadline`. */
  private settled(state: KeyState, deadline: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => finish(false), Math.max(0, deadline - Date.now()));
      const finish = (released: boolean) => {
        clearTimeout(timer);
        state.waiters.delete(wake);
        resolve(released);
      };
      const wake = () => finish(true);
      state.waiters.add(wake);
    });
  }

  private forgetIfIdle(key: string): void {
    const state = this.states.get(key);
    if (state && state.inFlight === 0 && state.deciding === 0 && state.waiters.size === 0) this.states.delete(key);
  }
}

function once(fn: () => void): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    fn();
  };
}
