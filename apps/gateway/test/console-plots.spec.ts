import { describe, expect, it } from '@jest/globals';
import { plotsOf, type Sample } from '../src/console/console-sampler.service.js';
import { counterRate, ratesOf, Ring } from '../src/console/plot-series.js';
import { TenantErrorRates } from '../src/console/tenant-error-rates.service.js';
import { formatValue, lineChart, pathOf, scaleLinear, yMaxOf } from '../src/console/views/plot.view.js';
import { errorRate, migrationsFragment, migrationVersion } from '../src/console/views/tenant-insights.view.js';

const T0 = Date.UTC(2026, 11, 7, 10, 0, 0);

/** `data-<name>` of the path of `series` in `svg`. */
function pathAttribute(svg: string, series: string, name: string): string | undefined {
  const path = new RegExp(`<path[^>]*data-series="${series}"[^>]*>`).exec(svg)?.[0];
  return path ? new RegExp(`data-${name}="([^"]*)"`).exec(path)?.[1] : undefined;
}

describe('console plots - ring, rates, SVG scaling, tenant error rates', () => {
  it('console plots - the ring keeps the newest items up to its capacity, oldest first', () => {
    const ring = new Ring<number>(3);
    expect(ring.toArray()).toEqual([]);
    ring.push(1);
    ring.push(2);
    expect([ring.size, ring.toArray()]).toEqual([2, [1, 2]]);
    for (const n of [3, 4, 5]) ring.push(n);
    expect([ring.size, ring.toArray()]).toEqual([3, [3, 4, 5]]);
    for (let n = 6; n < 1_006; n++) ring.push(n);
    expect(ring.toArray()).toEqual([1_003, 1_004, 1_005]);
    expect(() => new Ring(0)).toThrow();
  });

  it('console plots - a counter rate is its delta over the seconds; a counter that went down was reset and counts from 0', () => {
    expect(counterRate(10, 30, 10)).toBe(2);
    expect(counterRate(10, 10, 10)).toBe(0);
    // Reset: the process restarted and has counted 4 since.
    expect(counterRate(1_000, 4, 2)).toBe(2);
    expect(counterRate(null, 4, 2)).toBeNull();
    expect(counterRate(1, undefined, 2)).toBeNull();
    expect(counterRate(1, 2, 0)).toBeNull();
  });

  it('console plots - rates of samples: one point per sample after the first; another source (replica) is a gap, not a delta', () => {
    const samples = [
      { at: T0, v: { value: 0, source: 'a' } },
      { at: T0 + 10_000, v: { value: 50, source: 'a' } },
      { at: T0 + 20_000, v: { value: 7, source: 'b' } },
      { at: T0 + 30_000, v: { value: 27, source: 'b' } },
      { at: T0 + 40_000, v: null },
      { at: T0 + 50_000, v: { value: 5, source: 'b' } },
    ];
    expect(
      ratesOf(
        samples,
        (s) => s.at,
        (s) => s.v,
      ),
    ).toEqual([
      { at: T0 + 10_000, value: 5 },
      { at: T0 + 20_000, value: null },
      { at: T0 + 30_000, value: 2 },
      { at: T0 + 40_000, value: null },
      { at: T0 + 50_000, value: null },
    ]);
  });

  it('console plots - plotsOf: request and error rates per store, a down store is a gap in pool use, the edge ingest rate', () => {
    const up = (requests: number, errors: number, inUse: number) => ({ requests, errors, up: true, inUse });
    const samples: Sample[] = [
      { at: T0, stores: { secure: up(0, 0, 1), edge: up(0, 0, 0) }, ingest: { value: 100, source: 'edge-1' } },
      {
        at: T0 + 10_000,
        stores: { secure: up(20, 5, 3), edge: up(0, 0, 2) },
        ingest: { value: 300, source: 'edge-1' },
      },
      {
        at: T0 + 20_000,
        stores: {
          secure: { requests: 40, errors: 25, up: false, code: 'SERVICE_UNAVAILABLE', inUse: null },
          edge: up(10, 0, 2),
        },
        ingest: { value: 400, source: 'edge-1' },
      },
    ];
    const plots = plotsOf(samples, ['secure', 'edge'], T0 + 20_000, 3_600_000);
    expect(plots.from).toBe(T0 + 20_000 - 3_600_000);
    expect(plots.requests['secure']!.map((p) => p.value)).toEqual([2, 2]);
    expect(plots.errors['secure']!.map((p) => p.value)).toEqual([0.5, 2]);
    expect(plots.requests['edge']!.map((p) => p.value)).toEqual([0, 1]);
    expect(plots.inUse['secure']!.map((p) => p.value)).toEqual([1, 3, null]);
    expect(plots.ingest.map((p) => p.value)).toEqual([20, 10]);
  });

  it('console plots - SVG scaling: time to x, 0..max to bottom..top; gaps split the path; the figures on the path as data-*', () => {
    const x = scaleLinear(T0, T0 + 60_000, 56, 628);
    expect([x(T0), x(T0 + 30_000), x(T0 + 60_000)]).toEqual([56, 342, 628]);
    const y = scaleLinear(0, 8, 158, 10);
    expect([y(0), y(4), y(8)]).toEqual([158, 84, 10]);
    expect(scaleLinear(5, 5, 1, 9)(5)).toBe(1);

    const points = [
      { at: T0, value: 0 },
      { at: T0 + 30_000, value: 8 },
      { at: T0 + 40_000, value: null },
      { at: T0 + 60_000, value: 4 },
    ];
    expect(pathOf(points, x, y)).toBe('M56 158 L342 10 M628 84');
    expect(yMaxOf([{ key: 'a', label: 'a', color: '#000', points: [{ at: T0, value: 0 }] }])).toBe(1);
    expect([formatValue(1234.5), formatValue(12.34), formatValue(0.1234), formatValue(null)]).toEqual([
      '1235',
      '12.3',
      '0.12',
      '—',
    ]);

    const svg = lineChart({
      id: 'plot-test',
      title: 'Requests <per> store',
      unit: 'req/s',
      from: T0,
      to: T0 + 60_000,
      series: [
        { key: 'requests:secure', label: 'secure', color: '#1d3557', points },
        { key: 'requests:edge', label: 'edge', color: '#e76f51', points: [{ at: T0, value: null }] },
      ],
    }).value;
    expect(pathAttribute(svg, 'requests:secure', 'points')).toBe('3');
    expect(pathAttribute(svg, 'requests:secure', 'last')).toBe('4');
    expect(pathAttribute(svg, 'requests:secure', 'max')).toBe('8');
    expect(pathAttribute(svg, 'requests:edge', 'last')).toBe('');
    expect(svg).toMatch(/data-axis="max">\s*8\.00\s*</);
    expect(svg).toContain('−1 min');
    // Escaped text; no inline style or script (the CSP forbids both).
    expect(svg).toContain('Requests &lt;per&gt; store');
    expect(svg).not.toMatch(/style=|<script/);
  });

  it('console plots - a figure that cannot be had is a dash whose title says why; a version is the timestamp ending the name', () => {
    expect([migrationVersion('ReliableOutboxOrder1764205600000'), migrationVersion('custom')]).toEqual([
      '1764205600000',
      'custom',
    ]);
    const cell = migrationsFragment({
      secure: { value: 'SecureCustomerKeys1764208600000' },
      reliable: { missing: 'the store did not answer: SERVICE_UNAVAILABLE' },
      edge: { value: null },
    }).value.replace(/\s+/g, ' ');
    expect(cell).toMatch(
      /data-store="secure" data-figure="migration" title="SecureCustomerKeys1764208600000" ?>secure 1764208600000</,
    );
    expect(cell).toMatch(
      /data-missing="true" class="missing" title="reliable: the store did not answer: SERVICE_UNAVAILABLE" ?>reliable —</,
    );
    expect(cell).toMatch(/title="no migration recorded" ?>edge none</);
    expect(errorRate(null).value).toContain('data-missing="true"');
    expect(errorRate({ requests: 40, errors: 2 }).value.replace(/\s+/g, ' ')).toMatch(
      /data-requests="40" data-errors="2"[^>]*>5\.0 % \(2 of 40\)</,
    );
  });

  it('console plots - tenant error rates: 5xx over the last 5 minutes per tenant; bounded, the least recently seen forgotten first', () => {
    const rates = new TenantErrorRates(2, 5);
    rates.record('acme', false, T0);
    rates.record('acme', true, T0 + 1_000);
    rates.record('acme', false, T0 + 2 * 60_000);
    expect(rates.of('acme', T0 + 2 * 60_000)).toEqual({ requests: 3, errors: 1 });
    // Five minutes on, the first minute's requests are out of the window.
    expect(rates.of('acme', T0 + 5 * 60_000)).toEqual({ requests: 1, errors: 0 });
    expect(rates.of('acme', T0 + 8 * 60_000)).toBeNull();
    expect(rates.of('nobody', T0)).toBeNull();

    rates.record('beta', true, T0);
    rates.record('acme', false, T0 + 1);
    rates.record('gamma', false, T0 + 2);
    expect(rates.size).toBe(2);
    expect(rates.of('beta', T0 + 3)).toBeNull();
    expect(rates.of('gamma', T0 + 3)).toEqual({ requests: 1, errors: 0 });
  });
});
