// Counters and histograms for the request path, exposed through a prom-client Registry. prom-client's
// own children hash their label values on every observe and allocate for it: ~1 µs per request
// measured on Bun (scripts/bench/http.ts prints the service's CPU per request, ~5 % of it), and
// garbage for every request. Here a series is a plain object found once per route, method and status
// (as src/logging/access-log.ts caches its line parts), and recording is a bucket search and three
// additions. Everything that allocates — label objects, cumulative buckets, text — happens at scrape
// time, in prom-client's exposition code, from the `get()` these objects implement (the shape
// prom-client's own metrics return: lib/registry.js getMetricsAsString).

/** 1 ms to 10 s, about three buckets a decade: resolves a 10 ms SLO and a 5 s outlier alike. */
export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

type Labels = Record<string, string | number>;

interface Sample {
  labels: Labels;
  value: number;
  /** The series' name when it is not the metric's (a histogram's _bucket, _sum, _count). */
  metricName?: string;
}

/** What prom-client's Registry needs from a metric (registerMetric, metrics(), getMetricsAsJSON()). */
export interface CollectableMetric {
  readonly name: string;
  readonly help: string;
  readonly type: "counter" | "histogram" | "gauge";
  readonly aggregator: "sum";
  get(): Promise<{ name: string; help: string; type: string; aggregator: "sum"; values: Sample[] }>;
  reset(): void;
}

export class HistogramSeries {
  /** Non-cumulative: counts[i] holds observations in (bucket[i-1], bucket[i]]; the last slot is +Inf. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  constructor(
    readonly labels: Labels,
    readonly buckets: readonly number[],
  ) {
    this.counts = new Float64Array(buckets.length + 1);
  }

  observe(seconds: number): void {
    const buckets = this.buckets;
    let i = 0;
    while (i < buckets.length && seconds > buckets[i]!) i++;
    this.counts[i]!++;
    this.sum += seconds;
    this.count++;
  }
}

/** Histogram exposition of a set of series: `_bucket` (cumulative, with `le`), `_sum`, `_count`. */
export class HistogramExport implements CollectableMetric {
  readonly type = "histogram" as const;
  readonly aggregator = "sum" as const;
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly series: () => Iterable<HistogramSeries>,
  ) {}

  async get() {
    const values: Sample[] = [];
    for (const s of this.series()) {
      let cumulative = 0;
      s.buckets.forEach((le, i) => {
        cumulative += s.counts[i]!;
        values.push({ labels: { ...s.labels, le }, value: cumulative, metricName: `${this.name}_bucket` });
      });
      values.push({ labels: { ...s.labels, le: "+Inf" }, value: s.count, metricName: `${this.name}_bucket` });
      values.push({ labels: s.labels, value: s.sum, metricName: `${this.name}_sum` });
      values.push({ labels: s.labels, value: s.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {
    for (const s of this.series()) {
      s.counts.fill(0);
      s.sum = 0;
      s.count = 0;
    }
  }
}

/** A counter read from numbers kept elsewhere (e.g. the count of a histogram series). */
export class CounterExport implements CollectableMetric {
  readonly type = "counter" as const;
  readonly aggregator = "sum" as const;
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly read: () => Iterable<{ labels: Labels; value: number }>,
  ) {}

  async get() {
    const values = [...this.read()].map(({ labels, value }) => ({ labels, value }));
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {}
}

/**
 * A counter over label sets known up front (e.g. backend × operation × result): each is a slot in an
 * array, so incrementing is an index and an addition. `slot(...)` resolves one once, at wiring time.
 */
export class SlotCounter implements CollectableMetric {
  readonly type = "counter" as const;
  readonly aggregator = "sum" as const;
  private readonly labelSets: Labels[] = [];
  private values = new Float64Array(8);

  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  /** The index of a label set, created on first use (not on the request path: resolve it when wiring). */
  slot(labels: Labels): number {
    const key = JSON.stringify(labels);
    const found = this.labelSets.findIndex((l) => JSON.stringify(l) === key);
    if (found >= 0) return found;
    this.labelSets.push(labels);
    if (this.labelSets.length > this.values.length) {
      const grown = new Float64Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    return this.labelSets.length - 1;
  }

  inc(slot: number, by = 1): void {
    this.values[slot]! += by;
  }

  value(slot: number): number {
    return this.values[slot]!;
  }

  async get() {
    const values = this.labelSets.map((labels, i) => ({ labels, value: this.values[i]! }));
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {
    this.values.fill(0);
  }
}

/** A gauge whose samples are read when scraped; a source with nothing to say leaves the metric absent
 * (prom-client's unlabelled Gauge would read 0, which an alert cannot tell from a real 0). */
export class GaugeExport implements CollectableMetric {
  readonly type = "gauge" as const;
  readonly aggregator = "sum" as const;
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly read: () => Promise<Array<{ labels: Labels; value: number }>>,
  ) {}

  async get() {
    const values = await this.read();
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {}
}
