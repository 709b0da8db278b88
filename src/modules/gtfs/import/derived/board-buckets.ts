// The departure board's table, built while stop_times streams in. Each row of stop_departures holds
// one stop's departures within one hour of the service day (hour = departure_secs / 3600, past 24
// for times after midnight) as parallel arrays sorted by time. A board then reads a few small rows
// per stop and date, and the import skips the B-tree over every stop time that used to answer it:
// sorting millions of (stop, time) pairs was the longest step of an import, while grouping them
// here is a counting sort over dense integer keys.
// Frequency-based trips (frequencies.txt) are not listed by time: a stop's rows of those trips go to
// one extra row per stop with hour = FREQUENCY_HOUR, departure_secs holding each stop time's offset
// from its trip's first departure (the template the board expands by headway).
import { BOARD_BUCKET_SECS, FREQUENCY_HOUR } from "../../domain/feed-version";
import type { BinaryCopyWriter } from "../copy-binary";

export interface BoardBucket {
  stopIdx: number;
  hour: number;
  departureSecs: Int32Array;
  tripIdx: Int32Array;
  stopSequence: Int32Array;
  /** null when no departure in the bucket has a stop_headsign. */
  stopHeadsign: (string | null)[] | null;
}

/** Departures that can appear on a board: a stop time with a departure, where pickup is possible. */
export class BoardCollector {
  private size = 0;
  private stops = new Int32Array(1 << 16);
  private secs = new Int32Array(1 << 16);
  private trips = new Int32Array(1 << 16);
  private seqs = new Int32Array(1 << 16);
  /** Sparse: row number → stop_headsign (most feeds have none). */
  private headsigns = new Map<number, string>();
  private maxStop = 0;
  private maxHour = 0;
  private maxTrip = 0;
  /** Rows came in trip order (stop_times grouped by trip, trips in file order): no sort by trip needed. */
  private tripsAscending = true;
  /** Frequency-based trips' stop times, and per trip the departure at its lowest stop_sequence. */
  private frequency: { stopIdx: number; secs: number; tripIdx: number; seq: number; headsign: string | null }[] = [];
  private frequencyFirst = new Map<number, { seq: number; secs: number }>();

  add(stopIdx: number, departureSecs: number, tripIdx: number, stopSequence: number, headsign: string | null): void {
    if (this.size === this.stops.length) this.grow();
    const i = this.size++;
    this.stops[i] = stopIdx;
    this.secs[i] = departureSecs;
    this.trips[i] = tripIdx;
    this.seqs[i] = stopSequence;
    if (headsign !== null) this.headsigns.set(i, headsign);
    if (stopIdx > this.maxStop) this.maxStop = stopIdx;
    if (tripIdx > this.maxTrip) this.maxTrip = tripIdx;
    else if (tripIdx < this.maxTrip) this.tripsAscending = false;
    const hour = Math.floor(departureSecs / BOARD_BUCKET_SECS);
    if (hour > this.maxHour) this.maxHour = hour;
  }

  /**
   * A stop time of a frequency-based trip (its times are a template). Every one counts for the trip's
   * first departure; only those where pickup is possible (`boardable`) are listed.
   */
  addFrequency(
    stopIdx: number,
    departureSecs: number,
    tripIdx: number,
    stopSequence: number,
    headsign: string | null,
    boardable: boolean,
  ): void {
    if (boardable) this.frequency.push({ stopIdx, secs: departureSecs, tripIdx, seq: stopSequence, headsign });
    const first = this.frequencyFirst.get(tripIdx);
    if (!first || stopSequence < first.seq)
      this.frequencyFirst.set(tripIdx, { seq: stopSequence, secs: departureSecs });
  }

  /** One bucket per stop with frequency-based departures (hour = FREQUENCY_HOUR), offsets sorted by (trip, sequence). */
  private *frequencyBuckets(): Generator<BoardBucket> {
    const byStop = new Map<number, typeof this.frequency>();
    for (const r of this.frequency) {
      const list = byStop.get(r.stopIdx);
      if (list) list.push(r);
      else byStop.set(r.stopIdx, [r]);
    }
    for (const stopIdx of [...byStop.keys()].sort((a, b) => a - b)) {
      const rows = byStop.get(stopIdx)!.sort((a, b) => a.tripIdx - b.tripIdx || a.seq - b.seq);
      const headsigns = rows.some((r) => r.headsign !== null);
      yield {
        stopIdx,
        hour: FREQUENCY_HOUR,
        departureSecs: Int32Array.from(rows, (r) => r.secs - this.frequencyFirst.get(r.tripIdx)!.secs),
        tripIdx: Int32Array.from(rows, (r) => r.tripIdx),
        stopSequence: Int32Array.from(rows, (r) => r.seq),
        stopHeadsign: headsigns ? rows.map((r) => r.headsign) : null,
      };
    }
  }

  /**
   * Writes the buckets as binary COPY tuples of stop_departures, yielding after each so the caller can
   * send. With several writers (one COPY each, on separate connections) a stop's rows go to
   * writers[stop_idx % writers.length].
   */
  *writeTo(writers: readonly BinaryCopyWriter[]): Generator<void> {
    const anyHeadsign = this.headsigns.size > 0;
    for (const { stopIdx, hour, rows } of this.sortedRanges()) {
      const w = writers[stopIdx % writers.length]!;
      const headsigns =
        anyHeadsign && rows.some((i) => this.headsigns.has(i))
          ? Array.from(rows, (i) => this.headsigns.get(i) ?? null)
          : null;
      beginTuple(w, stopIdx, hour, rows.length, headsigns);
      w.int4Arrays(rows, [this.secs, this.trips, this.seqs]);
      endTuple(w, headsigns);
      yield;
    }
    for (const b of this.frequencyBuckets()) {
      const w = writers[b.stopIdx % writers.length]!;
      beginTuple(w, b.stopIdx, b.hour, b.departureSecs.length, b.stopHeadsign);
      w.int4Arrays(b.departureSecs, [null]);
      w.int4Arrays(b.tripIdx, [null]);
      w.int4Arrays(b.stopSequence, [null]);
      endTuple(w, b.stopHeadsign);
      yield;
    }
  }

  /** Row numbers grouped by bucket: stable counting sorts by trip, then time, then stop and hour; no comparisons. */
  private *sortedRanges(): Generator<{ stopIdx: number; hour: number; rows: Int32Array }> {
    const n = this.size;
    const hours = this.maxHour + 1;
    const secs = this.secs;
    const keys = new Int32Array(n);
    for (let i = 0; i < n; i++) keys[i] = this.stops[i]! * hours + Math.floor(secs[i]! / BOARD_BUCKET_SECS);
    const byTrip = this.tripsAscending ? null : countingSort(null, this.trips, n, this.maxTrip + 1);
    const byTime = countingSort(byTrip, secs, n, hours * BOARD_BUCKET_SECS);
    const bucketCount = (this.maxStop + 1) * hours;
    const order = countingSort(byTime, keys, n, bucketCount);
    let from = 0;
    while (from < n) {
      const key = keys[order[from]!]!;
      let to = from + 1;
      while (to < n && keys[order[to]!] === key) to++;
      yield { stopIdx: Math.floor(key / hours), hour: key % hours, rows: order.subarray(from, to) };
      from = to;
    }
  }

  /** Room for `rows` departures up front (from the file's size), instead of doubling as they come. */
  reserve(rows: number): void {
    if (rows > this.stops.length) this.grow(rows);
  }

  private grow(capacity = this.stops.length * 2): void {
    const grow = (a: Int32Array) => {
      const next = new Int32Array(capacity);
      next.set(a.subarray(0, this.size));
      return next;
    };
    this.stops = grow(this.stops);
    this.secs = grow(this.secs);
    this.trips = grow(this.trips);
    this.seqs = grow(this.seqs);
  }
}

/** A stop_departures tuple up to its arrays: size bound, then stop_idx and hour. */
function beginTuple(
  w: BinaryCopyWriter,
  stopIdx: number,
  hour: number,
  count: number,
  headsigns: readonly (string | null)[] | null,
): void {
  const headsignBytes = headsigns ? headsigns.reduce((n, h) => n + 4 + (h?.length ?? 0) * 3, 0) : 0;
  w.row(6, 128 + count * 24 + headsignBytes);
  w.int4(stopIdx);
  w.int2(hour);
}

/** The tuple's last column: stop_headsign, NULL when no departure in the bucket has one. */
function endTuple(w: BinaryCopyWriter, headsigns: readonly (string | null)[] | null): void {
  if (headsigns) w.textArray(headsigns);
  else w.null();
}

/** Stable counting sort of row numbers (`input`, or 0…n-1 when null) by key[row], keys in [0, keyCount). */
function countingSort(input: Int32Array | null, key: Int32Array, n: number, keyCount: number): Int32Array {
  const next = new Int32Array(keyCount + 1);
  for (let i = 0; i < n; i++) next[key[i]! + 1]!++;
  for (let k = 1; k <= keyCount; k++) next[k]! += next[k - 1]!;
  const out = new Int32Array(n);
  if (input === null) for (let i = 0; i < n; i++) out[next[key[i]!]!++] = i;
  else
    for (let j = 0; j < n; j++) {
      const row = input[j]!;
      out[next[key[row]!]!++] = row;
    }
  return out;
}
