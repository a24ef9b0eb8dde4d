import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { METRICS_REGISTRY } from '#polystore/platform';
import type { Registry } from 'prom-client';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config.js';
import { ratesOf, Ring, type PlotPoint } from './plot-series.js';
import { StoreHealthPings } from './store-health-pings.service.js';
import { StoreDirectory } from '../stores/store-directory.js';

/** Points kept: an hour at the default interval of 10 s (`CONSOLE_PLOT_INTERVAL_MS`). */
export const PLOT_POINTS = 360;
/** The gateway's NATS request counter (`MessageClient`): `_count` by `pattern` and `outcome`. */
const RPC_METRIC = 'polystore_rpc_client_seconds';

/** What one sample saw of one store. */
export interface StoreSample {
  /** NATS requests this gateway sent the store since it started, and those that failed (counters). */
  readonly requests: number;
  readonly errors: number;
  /** Whether the store answered its health request; the error code when it did not. */
  readonly up: boolean;
  readonly code?: string;
  /** Connections in use over the store's servers, as the replica that answered counts them (null: down). */
  readonly inUse: number | null;
}

/** One point in time: every store's figures, and the edge store's readings counter with the replica that gave it. */
export interface Sample {
  readonly at: number;
  readonly stores: Readonly<Record<string, StoreSample>>;
  readonly ingest: { readonly value: number; readonly source: string } | null;
}

/** The plotted series of a window of samples. */
export interface Plots {
  readonly from: number;
  readonly to: number;
  readonly requests: Readonly<Record<string, PlotPoint[]>>;
  readonly errors: Readonly<Record<string, PlotPoint[]>>;
  readonly inUse: Readonly<Record<string, PlotPoint[]>>;
  readonly ingest: PlotPoint[];
}

/**
 * The plots of `samples` (oldest first) for `stores`: request and error rates per store from
 * the counters' deltas, connections in use per store as sampled, the edge store's ingest rate
 * (readings/s) from its counter, over the window `[to - window, to]`.
 */
export function plotsOf(samples: readonly Sample[], stores: readonly string[], to: number, windowMs: number): Plots {
  const at = (s: Sample) => s.at;
  const counter = (store: string, field: 'requests' | 'errors') => (s: Sample) =>
    s.stores[store] ? { value: s.stores[store][field] } : null;
  const perStore = (points: (store: string) => PlotPoint[]) =>
    Object.fromEntries(stores.map((store) => [store, points(store)]));
  return {
    from: to - windowMs,
    to,
    requests: perStore((store) => ratesOf(samples, at, counter(store, 'requests'))),
    errors: perStore((store) => ratesOf(samples, at, counter(store, 'errors'))),
    inUse: perStore((store) => samples.map((s) => ({ at: s.at, value: s.stores[store]?.inUse ?? null }))),
    ingest: ratesOf(samples, at, (s) => s.ingest),
  };
}

/**
 * Keeps the console's plots: every `CONSOLE_PLOT_INTERVAL_MS` one sample of the gateway's own
 * NATS request counters per store (health pings left out) and of each store's health answer
 * (pools in use, the edge store's readings), in a ring of {@link PLOT_POINTS}: bounded memory,
 * no tenant in it. What one replica saw since it started; the fleet's view is Grafana's. Started
 * with the application when the console is enabled; the timer is unref'ed and stopped at
 * shutdown. A sample still running when the next is due skips that one.
 */
@Injectable()
export class ConsoleSampler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ConsoleSampler.name);
  private readonly ring = new Ring<Sample>(PLOT_POINTS);
  private timer?: NodeJS.Timeout;
  private sampling = false;

  constructor(
    @Inject(METRICS_REGISTRY) private readonly metrics: Registry,
    private readonly pings: StoreHealthPings,
    private readonly directory: StoreDirectory,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  get intervalMs(): number {
    return this.config.CONSOLE_PLOT_INTERVAL_MS;
  }

  onApplicationBootstrap(): void {
    if (!this.config.CONSOLE_ENABLED) return;
    void this.tick();
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** The samples kept, oldest first. */
  samples(): Sample[] {
    return this.ring.toArray();
  }

  /** The plots of the samples kept, over the ring's whole window ending now. */
  plots(now = Date.now()): Plots {
    return plotsOf(
      this.samples(),
      this.directory.stores.map((s) => s.store),
      now,
      PLOT_POINTS * this.intervalMs,
    );
  }

  private async tick(): Promise<void> {
    if (this.sampling) return;
    this.sampling = true;
    try {
      this.ring.push(await this.sample());
    } catch (error) {
      this.logger.warn({ err: error }, `console sample skipped: ${(error as Error).message}`);
    } finally {
      this.sampling = false;
    }
  }

  private async sample(): Promise<Sample> {
    const at = Date.now();
    const [counts, pings] = await Promise.all([this.requestCounts(), this.pings.all()]);
    const stores: Record<string, StoreSample> = {};
    let ingest: Sample['ingest'] = null;
    for (const { entry, answer, code } of pings) {
      const count = counts.get(entry.store) ?? { requests: 0, errors: 0 };
      if (!answer) {
        stores[entry.store] = { ...count, up: false, code: code!, inUse: null };
        continue;
      }
      stores[entry.store] = {
        ...count,
        up: true,
        inUse: (answer.pools ?? []).reduce((sum, pool) => sum + pool.inUse, 0),
      };
      if (entry.store === 'edge' && answer.readingsStored !== undefined)
        ingest = { value: answer.readingsStored, source: answer.instance };
    }
    return { at, stores, ingest };
  }

  /** This gateway's NATS requests per store (the pattern's first word), all outcomes and failed ones; health pings left out. */
  private async requestCounts(): Promise<Map<string, { requests: number; errors: number }>> {
    const counts = new Map<string, { requests: number; errors: number }>();
    const metric = this.metrics.getSingleMetric(RPC_METRIC);
    if (!metric) return counts;
    // A histogram's values carry their series' name (`_bucket`, `_sum`, `_count`).
    for (const { metricName, labels, value } of (await metric.get()).values as Array<{
      metricName?: string;
      labels: Record<string, string | number | undefined>;
      value: number;
    }>) {
      const pattern = String(labels['pattern'] ?? '');
      if (!metricName?.endsWith('_count') || pattern.endsWith('.health')) continue;
      const store = pattern.slice(0, pattern.indexOf('.'));
      const count = counts.get(store) ?? { requests: 0, errors: 0 };
      count.requests += value;
      if (labels['outcome'] !== 'ok') count.errors += value;
      counts.set(store, count);
    }
    return counts;
  }
}
