// frequencies.txt turns one template trip into many: the template's stop times are offsets from its
// first departure, repeated every headway_secs from start_time until (exclusive) end_time. Both
// exact_times=1 (schedule-based) and exact_times=0 (headway-based, times are nominal) expand the same way;
// the response says which one applies.

export interface FrequencyWindow {
  startSecs: number;
  endSecs: number;
  headwaySecs: number;
  exactTimes: boolean;
}

/** Start times (seconds of the service day) of the trip instances a window generates. */
export function frequencyStarts(f: FrequencyWindow): number[] {
  const out: number[] = [];
  for (let t = f.startSecs; t < f.endSecs; t += f.headwaySecs) out.push(t);
  return out;
}

/**
 * Departures at a stop whose offset from the trip's first departure is `offsetSecs`, falling in
 * [loSecs, hiSecs] (service-day seconds). Mirrors the SQL the departure board runs.
 */
export function frequencyDeparturesBetween(
  f: FrequencyWindow,
  offsetSecs: number,
  loSecs: number,
  hiSecs: number,
): number[] {
  const kMin = Math.max(0, Math.ceil((loSecs - offsetSecs - f.startSecs) / f.headwaySecs));
  const kMax = Math.min(
    Math.ceil((f.endSecs - f.startSecs) / f.headwaySecs) - 1,
    Math.floor((hiSecs - offsetSecs - f.startSecs) / f.headwaySecs),
  );
  const out: number[] = [];
  for (let k = kMin; k <= kMax; k++) out.push(f.startSecs + k * f.headwaySecs + offsetSecs);
  return out;
}
