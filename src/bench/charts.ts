/**
 * SVG charts for the benchmark report, rendered headlessly in Node: a Vega-Lite spec is compiled to
 * Vega, parsed, and rendered by a View with renderer 'none' straight to an SVG string (no canvas, no
 * browser). Text is measured by Vega's estimate, which is good enough for axis labels.
 */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { ScalingResult } from './scaling.js';
import type { RaceResult } from './race-sweep.js';
import type { SizeResult } from './size-sweep.js';
import type { PriceRow } from './prices.js';
import { workersLabel } from './stats.js';

export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const compiled = compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

const FONT = {
  config: {
    font: 'sans-serif', view: { stroke: '#ddd' }, axis: { labelFontSize: 11, titleFontSize: 12, labelLimit: 260 },
    legend: { labelFontSize: 11, labelLimit: 260 }, range: { category: { scheme: 'tableau20' } },
  },
};

const DELAY_LABEL = "datum.value === 0 ? 'none' : datum.value >= 1000 ? (datum.value / 1000) + ' ms' : datum.value + ' µs'";
const BUCKETS_LABEL = "datum.value >= 1048576 ? (datum.value / 1048576) + 'M' : datum.value >= 1024 ? (datum.value / 1024) + 'K' : datum.value";

/** Throughput (cycles/s, all workers) against workers, one line per configuration, min–max bars. */
export function scalingSpec(s: ScalingResult): TopLevelSpec {
  const values = s.points.map((p) => ({
    config: p.label, allocator: p.config.allocator, fix: p.config.fix, cursor: p.config.cursorFix ? 'cursor fix' : 'no cursor fix',
    workers: p.workers, median: p.throughput.median, min: p.throughput.min, max: p.throughput.max,
  }));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: 'Allocation throughput vs workers', subtitle: `allocate+write+put+free cycles/s, all workers; median of ${s.rounds} rounds, bars min–max` },
    data: { values },
    facet: { column: { field: 'allocator', type: 'nominal', title: 'allocator' } },
    spec: {
      width: 300,
      height: 240,
      layer: [
        {
          mark: { type: 'line', point: true },
          encoding: {
            x: { field: 'workers', type: 'quantitative', scale: { type: 'log', base: 2 }, axis: { values: s.workers, format: 'd' }, title: 'workers' },
            y: { field: 'median', type: 'quantitative', title: 'cycles / s' },
            color: { field: 'config', type: 'nominal', title: 'configuration' },
            strokeDash: { field: 'cursor', type: 'nominal', title: 'cursor' },
          },
        },
        {
          mark: { type: 'rule' },
          encoding: {
            x: { field: 'workers', type: 'quantitative' },
            y: { field: 'min', type: 'quantitative' },
            y2: { field: 'max' },
            color: { field: 'config', type: 'nominal' },
          },
        },
      ],
    },
    ...FONT,
  } as TopLevelSpec;
}

/** Racy allocations per million against the injected delay (symlog axes: zero stays on the chart). */
export function raceSpec(r: RaceResult): TopLevelSpec {
  const workerOrder = r.workers.map(workersLabel);
  const values = r.points.map((p) => ({
    config: p.label, workers: workersLabel(p.workers), delayUs: p.delayNs / 1000,
    perMillion: p.rate.rate * 1e6, low: p.rate.low * 1e6, high: p.rate.high * 1e6,
  }));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: 'Race rate vs delay after the candidate read', subtitle: 'duplicate allocations (the oracle) per million; spin delay at candidateRead; bars: 95% interval (Wilson; rule of three at zero)' },
    data: { values },
    facet: { column: { field: 'config', type: 'nominal', title: 'configuration' } },
    spec: {
      width: 200,
      height: 220,
      layer: [
        {
          mark: { type: 'line', point: true },
          encoding: {
            x: { field: 'delayUs', type: 'quantitative', scale: { type: 'symlog', constant: 1 }, axis: { values: r.delaysNs.map((d) => d / 1000), labelExpr: DELAY_LABEL }, title: 'delay (log scale)' },
            y: { field: 'perMillion', type: 'quantitative', scale: { type: 'symlog', constant: 1 }, axis: { values: [0, 10, 100, 1e3, 1e4, 1e5, 1e6], labelExpr: "datum.value === 0 ? '0' : format(datum.value, '~s')" }, title: 'duplicate allocations per million' },
            color: { field: 'workers', type: 'nominal', title: 'workers', sort: workerOrder, scale: { scheme: 'category10' } },
          },
        },
        {
          mark: { type: 'rule', opacity: 0.5 },
          encoding: {
            x: { field: 'delayUs', type: 'quantitative' },
            y: { field: 'low', type: 'quantitative' },
            y2: { field: 'high' },
            color: { field: 'workers', type: 'nominal', sort: workerOrder },
          },
        },
      ],
    },
    ...FONT,
  } as TopLevelSpec;
}

/** ns per cycle against bucket count (log–log), one line per configuration. */
export function sizeSpec(z: SizeResult): TopLevelSpec {
  const values = z.points.map((p) => ({ config: p.label, buckets: p.buckets, median: p.ns.median, min: p.ns.min, max: p.ns.max }));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: 'Cycle cost vs device size', subtitle: `one thread, first ${Math.round(z.fill * 100)}% of the device full; median of rounds, bars min–max` },
    data: { values },
    width: 420,
    height: 280,
    layer: [
      {
        mark: { type: 'line', point: true },
        encoding: {
          x: { field: 'buckets', type: 'quantitative', scale: { type: 'log', base: 2 }, axis: { values: z.sizes, labelExpr: BUCKETS_LABEL }, title: 'buckets' },
          y: { field: 'median', type: 'quantitative', scale: { type: 'log' }, axis: { format: '~s' }, title: 'ns per cycle' },
          color: { field: 'config', type: 'nominal', title: 'configuration' },
        },
      },
      {
        mark: { type: 'rule' },
        encoding: {
          x: { field: 'buckets', type: 'quantitative' },
          y: { field: 'min', type: 'quantitative' },
          y2: { field: 'max' },
          color: { field: 'config', type: 'nominal' },
        },
      },
    ],
    ...FONT,
  } as TopLevelSpec;
}

/**
 * Each configuration's price against early/none (same cursor setting): one thread in-process (the
 * micro cycle figures) and the scaling sweep at 1 and 4 workers. Bars: interquartile range (the
 * min–max of a noisy multi-worker sweep would hide every bar; it is in the tables).
 */
export function pricesSpec(p: { scaling: readonly PriceRow[]; cycle: readonly PriceRow[] }, workers: readonly number[]): TopLevelSpec {
  const row = (r: PriceRow, series: string) => ({
    config: r.label, series, price: r.price.median * 100, q1: r.price.q1 * 100, q3: r.price.q3 * 100,
  });
  const values = [
    ...p.cycle.filter((r) => r.baseline.startsWith('early/none')).map((r) => row(r, '1 thread, in-process')),
    ...p.scaling.filter((r) => r.baseline.startsWith('early/none') && workers.includes(r.workers))
      .map((r) => row(r, workersLabel(r.workers))),
  ];
  const order = ['1 thread, in-process', ...workers.map(workersLabel)];
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: 'Price of each fix', subtitle: 'time or throughput lost vs early/none with the same cursor setting, same rounds (%); median, bars IQR' },
    data: { values },
    width: 420,
    height: { step: 14 },
    layer: [
      {
        mark: { type: 'bar' },
        encoding: {
          y: { field: 'config', type: 'nominal', title: null },
          yOffset: { field: 'series', type: 'nominal', sort: order },
          x: { field: 'price', type: 'quantitative', title: 'price (%; negative = faster than early/none)' },
          color: { field: 'series', type: 'nominal', title: null, sort: order, scale: { scheme: 'category10' } },
        },
      },
      {
        mark: { type: 'rule' },
        encoding: {
          y: { field: 'config', type: 'nominal' },
          yOffset: { field: 'series', type: 'nominal', sort: order },
          x: { field: 'q1', type: 'quantitative' },
          x2: { field: 'q3' },
        },
      },
    ],
    ...FONT,
  } as TopLevelSpec;
}
