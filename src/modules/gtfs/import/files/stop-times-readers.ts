// The two ways a stop_times row is read into the converter's StopTimeRow. The line path reads a plain
// line where it sits in the text: no string per field, the stop_id looked up by its text range, the
// trip_id compared in place (rows of one trip come together). The record path takes the fields as
// strings. Each converts only canonical forms ("08:05:00", "3", "") itself and hands anything else on:
// the line path to the record path, the record path to the generic parser (`slow`), which accepts what
// the GTFS reference allows or reports it with line and field. So the stored row and the reports do not
// depend on the path a line took.
import { digitAt, fieldEnds, timeAt, uintAt } from "../fast-fields";
import { IdLookup } from "../id-lookup";
import { isBlank } from "../read/reader";
import type { StopTimeIds, StopTimeRow } from "./stop-times-converter";

/** Where each stop_times column is in the file's records (-1 when the file lacks it). */
export interface StopTimePositions {
  iTrip: number;
  iStop: number;
  iArr: number;
  iDep: number;
  iSeq: number;
  iHead: number;
  iPick: number;
  iDrop: number;
  iDist: number;
  iTp: number;
}

/** What a reader fills and hands on: `emit` checks and writes `row`, returning whether it was stored. */
export interface RowTarget {
  readonly ids: StopTimeIds;
  readonly row: StopTimeRow;
  emit(): boolean;
}

// The record path's field readers: a whole field string, undefined when the record is short.
const fastTime = (s: string | undefined) => (s === undefined ? null : timeAt(s, 0, s.length));
const fastUint = (s: string | undefined) => (s === undefined ? -1 : uintAt(s, 0, s.length));
const fastSmall = (s: string | undefined, max: number) => (s === undefined ? null : digitAt(s, 0, s.length, max));

/** The record path. `slow`: the generic parser's conversion of the same record. */
export function recordReader(
  p: StopTimePositions,
  target: RowTarget,
  slow: (f: string[], line: number) => boolean,
): (f: string[], line: number) => boolean {
  const { iTrip, iStop, iArr, iDep, iSeq, iHead, iPick, iDrop, iDist, iTp } = p;
  const { trips, stops } = target.ids;
  const r = target.row;
  // Consecutive rows usually belong to the same trip: remember the last lookup.
  let lastTrip = "";
  let lastTripIdx: number | undefined;
  return (f, line) => {
    const trip = f[iTrip];
    const stop = f[iStop];
    if (!trip || !stop) return slow(f, line);
    if (trip !== lastTrip) {
      lastTrip = trip;
      lastTripIdx = trips.get(trip);
    }
    const tripIdx = lastTripIdx;
    const stopIdx = stops.get(stop);
    if (tripIdx === undefined || stopIdx === undefined) return slow(f, line);
    const arr = iArr < 0 ? null : fastTime(f[iArr]);
    const dep = iDep < 0 ? null : fastTime(f[iDep]);
    const seq = fastUint(f[iSeq]);
    const pickup = iPick < 0 ? null : fastSmall(f[iPick], 3);
    const dropOff = iDrop < 0 ? null : fastSmall(f[iDrop], 3);
    const tp = iTp < 0 ? null : fastSmall(f[iTp], 1);
    if (arr === -1 || dep === -1 || seq < 0 || pickup === -1 || dropOff === -1 || tp === -1) return slow(f, line);
    let headsign: string | null = null;
    if (iHead >= 0) {
      const h = f[iHead];
      if (h === undefined || h.trim() !== h || h.includes("\0")) return slow(f, line);
      if (h !== "") headsign = h;
    }
    let dist: number | null = null;
    if (iDist >= 0) {
      const d = f[iDist];
      if (d === undefined || d.trim() !== d) return slow(f, line);
      if (d !== "") {
        dist = Number(d);
        if (!Number.isFinite(dist)) return slow(f, line);
      }
    }
    r.line = line;
    r.tripId = trip;
    r.stopId = stop;
    r.tripIdx = tripIdx;
    r.stopIdx = stopIdx;
    r.arrival = arr;
    r.departure = dep;
    r.sequence = seq;
    r.headsign = headsign;
    r.pickup = pickup;
    r.dropOff = dropOff;
    r.dist = dist;
    r.timepoint = tp;
    return target.emit();
  };
}

/**
 * The line path, for a plain line text[start, end) with the header's `columns` fields. A stop that is
 * not a plain stop (location_type 0) goes to the record path too: the reports about it name the stop_id,
 * which only the record path has as a string.
 */
export function lineReader(
  p: StopTimePositions,
  columns: number,
  target: RowTarget,
  recordPath: (f: string[], line: number) => boolean,
): (text: string, start: number, end: number, line: number) => boolean {
  const { iTrip, iStop, iArr, iDep, iSeq, iHead, iPick, iDrop, iDist, iTp } = p;
  const { trips, stopTypes } = target.ids;
  const stops = new IdLookup(target.ids.stops);
  const r = target.row;
  const ends = new Int32Array(columns);
  const slow = (text: string, start: number, end: number, line: number) => {
    const f = text.slice(start, end).split(",");
    return !isBlank(f) && recordPath(f, line);
  };
  let lastTrip = "";
  let lastTripIdx: number | undefined;
  return (t, start, end, line) => {
    if (!fieldEnds(t, start, end, ends, columns)) return slow(t, start, end, line);
    const from = (k: number) => (k === 0 ? start : ends[k - 1]! + 1);
    const tripFrom = from(iTrip);
    const tripTo = ends[iTrip]!;
    if (tripTo - tripFrom !== lastTrip.length || !t.startsWith(lastTrip, tripFrom)) {
      lastTrip = t.slice(tripFrom, tripTo);
      lastTripIdx = trips.get(lastTrip);
    }
    const tripIdx = lastTripIdx;
    const stopIdx = stops.get(t, from(iStop), ends[iStop]!);
    if (tripIdx === undefined || stopIdx < 0 || stopTypes[stopIdx] !== 0 || lastTrip === "")
      return slow(t, start, end, line);
    const arr = iArr < 0 ? null : timeAt(t, from(iArr), ends[iArr]!);
    const dep = iDep < 0 ? null : timeAt(t, from(iDep), ends[iDep]!);
    const seq = uintAt(t, from(iSeq), ends[iSeq]!);
    const pickup = iPick < 0 ? null : digitAt(t, from(iPick), ends[iPick]!, 3);
    const dropOff = iDrop < 0 ? null : digitAt(t, from(iDrop), ends[iDrop]!, 3);
    const tp = iTp < 0 ? null : digitAt(t, from(iTp), ends[iTp]!, 1);
    if (arr === -1 || dep === -1 || seq < 0 || pickup === -1 || dropOff === -1 || tp === -1)
      return slow(t, start, end, line);
    let headsign: string | null = null;
    if (iHead >= 0 && ends[iHead]! > from(iHead)) {
      headsign = t.slice(from(iHead), ends[iHead]);
      if (headsign.trim() !== headsign || headsign.includes("\0")) return slow(t, start, end, line);
    }
    let dist: number | null = null;
    if (iDist >= 0 && ends[iDist]! > from(iDist)) {
      const d = t.slice(from(iDist), ends[iDist]);
      dist = Number(d);
      if (d.trim() !== d || !Number.isFinite(dist)) return slow(t, start, end, line);
    }
    r.line = line;
    r.tripId = lastTrip;
    r.stopId = "";
    r.tripIdx = tripIdx;
    r.stopIdx = stopIdx;
    r.arrival = arr;
    r.departure = dep;
    r.sequence = seq;
    r.headsign = headsign;
    r.pickup = pickup;
    r.dropOff = dropOff;
    r.dist = dist;
    r.timepoint = tp;
    return target.emit();
  };
}
