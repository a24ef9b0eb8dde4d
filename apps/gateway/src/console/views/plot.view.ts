import { html, type SafeHtml } from '../html.util.js';
import type { PlotPoint } from '../plot-series.js';

/** The drawing's size in SVG units (the stylesheet scales it to the page). */
const WIDTH = 640;
const HEIGHT = 180;
const MARGIN = { left: 56, right: 12, top: 10, bottom: 22 } as const;

/** One line of a chart. */
export interface PlotSeries {
  /** `data-series` of its path: `<chart>:<name>`, what tests and scripts read. */
  readonly key: string;
  readonly label: string;
  /** An SVG colour (a presentation attribute: the CSP allows no inline style). */
  readonly color: string;
  readonly points: readonly PlotPoint[];
}

export interface PlotSpec {
  readonly id: string;
  readonly title: string;
  /** Shown after each value: `req/s`, `conn`... */
  readonly unit: string;
  /** The time window drawn, ms since the epoch. */
  readonly from: number;
  readonly to: number;
  readonly series: readonly PlotSeries[];
}

/** The linear map of `[d0, d1]` onto `[r0, r1]` (a degenerate domain maps to `r0`). */
export function scaleLinear(d0: number, d1: number, r0: number, r1: number): (value: number) => number {
  const span = d1 - d0;
  return (value) => (span === 0 ? r0 : r0 + ((value - d0) / span) * (r1 - r0));
}

/** The y axis' top: the largest value drawn, or 1 when there is none above 0 (a flat line sits at the bottom). */
export function yMaxOf(series: readonly PlotSeries[]): number {
  let max = 0;
  for (const s of series) for (const p of s.points) if (p.value !== null && p.value > max) max = p.value;
  return max > 0 ? max : 1;
}

/** An SVG path through the points, one sub-path (`M ... L ...`) per run without a gap. */
export function pathOf(points: readonly PlotPoint[], x: (at: number) => number, y: (value: number) => number): string {
  const parts: string[] = [];
  let open = false;
  for (const point of points) {
    if (point.value === null) {
      open = false;
      continue;
    }
    parts.push(`${open ? 'L' : 'M'}${round(x(point.at), 1)} ${round(y(point.value), 1)}`);
    open = true;
  }
  return parts.join(' ');
}

/** The newest known value of a series (null: none). */
export function lastOf(points: readonly PlotPoint[]): number | null {
  for (let i = points.length - 1; i >= 0; i--) if (points[i]!.value !== null) return points[i]!.value;
  return null;
}

/** A value as shown: 3 significant figures or so, never an exponent. */
export function formatValue(value: number | null): string {
  if (value === null) return '—';
  const size = Math.abs(value);
  return size >= 100 ? value.toFixed(0) : size >= 10 ? value.toFixed(1) : value.toFixed(2);
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/**
 * A line chart as inline SVG (presentation attributes only: no script, no style attribute):
 * axes, the y range's min (0) and max labels, the window's start and end, one path per series
 * carrying its figures as `data-*` (`data-series`, `data-points`, `data-last`, `data-max`), and a
 * legend with each series' last value.
 */
export function lineChart(spec: PlotSpec): SafeHtml {
  const yMax = yMaxOf(spec.series);
  const x = scaleLinear(spec.from, spec.to, MARGIN.left, WIDTH - MARGIN.right);
  const y = scaleLinear(0, yMax, HEIGHT - MARGIN.bottom, MARGIN.top);
  const bottom = HEIGHT - MARGIN.bottom;
  const minutes = Math.round((spec.to - spec.from) / 60_000);
  const paths = spec.series.map((s) => {
    const known = s.points.filter((p) => p.value !== null);
    const last = lastOf(s.points);
    const max = known.reduce((m, p) => Math.max(m, p.value!), 0);
    return html`<path
      data-series="${s.key}"
      data-points="${known.length}"
      data-last="${last === null ? '' : String(round(last, 3))}"
      data-max="${String(round(max, 3))}"
      d="${pathOf(s.points, x, y)}"
      fill="none"
      stroke="${s.color}"
      stroke-width="1.5"
    />`;
  });
  return html`<figure class="plot" id="${spec.id}">
    <figcaption>${spec.title}</figcaption>
    <svg
      class="plot"
      viewBox="0 0 ${WIDTH} ${HEIGHT}"
      role="img"
      aria-label="${spec.title}"
      xmlns="http://www.w3.org/2000/svg"
    >
      <line x1="${MARGIN.left}" y1="${MARGIN.top}" x2="${MARGIN.left}" y2="${bottom}" stroke="#8a939c" />
      <line x1="${MARGIN.left}" y1="${bottom}" x2="${WIDTH - MARGIN.right}" y2="${bottom}" stroke="#8a939c" />
      <text x="${MARGIN.left - 4}" y="${MARGIN.top + 4}" text-anchor="end" font-size="11" data-axis="max">
        ${formatValue(yMax)}
      </text>
      <text x="${MARGIN.left - 4}" y="${bottom}" text-anchor="end" font-size="11" data-axis="min">0</text>
      <text x="${MARGIN.left}" y="${HEIGHT - 6}" font-size="11">−${minutes} min</text>
      <text x="${WIDTH - MARGIN.right}" y="${HEIGHT - 6}" text-anchor="end" font-size="11">now</text>
      ${paths}
    </svg>
    <ul class="legend">
      ${spec.series.map(
        (s) =>
          html`<li data-legend="${s.key}">
            <svg class="swatch" viewBox="0 0 10 10" aria-hidden="true">
              <rect width="10" height="10" fill="${s.color}" />
            </svg>
            ${s.label}: <strong>${formatValue(lastOf(s.points))}</strong> ${spec.unit}
          </li>`,
      )}
    </ul>
  </figure>`;
}
