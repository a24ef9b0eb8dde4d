import type { Plots, Sample } from '../console-sampler.service.js';
import type { ConsoleSession } from '../console-session.util.js';
import { html, type SafeHtml } from '../html.util.js';
import type { PlotPoint } from '../plot-series.js';
import { layout, when } from './layout.view.js';
import { lineChart, type PlotSeries } from './plot.view.js';

/** A colour per store, the same on every chart. */
const STORE_COLORS: Readonly<Record<string, string>> = {
  secure: '#1d3557',
  reliable: '#2a9d8f',
  edge: '#e76f51',
};

function storeSeries(chart: string, points: Readonly<Record<string, PlotPoint[]>>): PlotSeries[] {
  return Object.entries(points).map(([store, series]) => ({
    key: `${chart}:${store}`,
    label: store,
    color: STORE_COLORS[store] ?? '#6c757d',
    points: series,
  }));
}

/** Each store as the last sample saw it: answering, or down with the error code. */
function storeStates(latest: Sample | undefined, stores: readonly string[]): SafeHtml {
  if (!latest) return html`<p id="stores-none">No sample yet: the first is taken when the gateway starts.</p>`;
  return html`<ul id="stores" class="stores">
    ${stores.map((store) => {
      const seen = latest.stores[store];
      const state = seen?.up ? 'ok' : 'down';
      return html`<li data-store="${store}" data-state="${state}">
        ${store}:
        <span class="health ${state}">${state}</span>${seen && !seen.up ? html` <code>${seen.code ?? ''}</code>` : ''}
      </li>`;
    })}
  </ul>`;
}

/**
 * The overview: each store's state as last sampled, then line charts over the sampler's window
 * (an hour at the default interval): requests and errors per store as this gateway sent them,
 * connections in use per store, the edge store's ingest rate.
 */
export function overviewPage(
  plots: Plots,
  latest: Sample | undefined,
  stores: readonly string[],
  intervalMs: number,
  session: ConsoleSession,
): SafeHtml {
  const chart = (id: string, title: string, unit: string, series: PlotSeries[]) =>
    lineChart({ id, title, unit, from: plots.from, to: plots.to, series });
  return layout(
    'Overview',
    html`<p>
        What this gateway replica saw since it started, one point every ${intervalMs / 1000} s (last:
        ${when(latest ? new Date(latest.at) : null)}). The fleet's view is the Grafana dashboard.
      </p>
      ${storeStates(latest, stores)}
      <div class="plots">
        ${chart('plot-requests', 'Requests per store (NATS requests from this gateway)', 'req/s', storeSeries('requests', plots.requests))}
        ${chart('plot-errors', 'Errors per store (failed NATS requests)', 'err/s', storeSeries('errors', plots.errors))}
        ${chart('plot-ingest', 'Ingest rate (edge store: readings committed)', 'readings/s', [
          { key: 'ingest:edge', label: 'edge', color: STORE_COLORS['edge']!, points: plots.ingest },
        ])}
        ${chart('plot-pools', 'Pool use per store (connections in use)', 'conn', storeSeries('pools', plots.inUse))}
      </div>`,
    session,
  );
}
