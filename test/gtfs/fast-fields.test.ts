// The in-place field readers of the stop_times hot path: canonical forms parse, everything else is
// -1 (the record parser then decides), and an empty field is null.
import { describe, expect, it } from "vitest";
import { digitAt, fieldEnds, timeAt, uintAt } from "../../src/modules/gtfs/import/fast-fields";

/** Reads the field between the markers of "…[value]…". */
const within = <T>(marked: string, read: (text: string, from: number, to: number) => T): T =>
  read(marked, marked.indexOf("[") + 1, marked.indexOf("]"));

describe("in-place field readers", () => {
  it("reads HH:MM:SS times, past 24:00 too", () => {
    expect(within("x,[08:05:09],y", timeAt)).toBe(8 * 3600 + 5 * 60 + 9);
    expect(within("[25:30:00]", timeAt)).toBe(25 * 3600 + 30 * 60);
    expect(within("a,[],b", timeAt)).toBeNull();
    for (const odd of ["8:05:09", "08:5:09", "08:60:00", "08:00:60", " 8:05:09", "08-05-09", "aa:bb:cc", "108:00:00"])
      expect(within(`[${odd}]`, timeAt)).toBe(-1);
  });

  it("reads unsigned integers of up to 9 digits and single digits within a bound", () => {
    expect(within("[0]", uintAt)).toBe(0);
    expect(within("q,[123456789],", uintAt)).toBe(123456789);
    for (const odd of ["", "1234567890", "-1", " 1", "1 ", "1.0", "+1"]) expect(within(`[${odd}]`, uintAt)).toBe(-1);
    expect(within("[3]", (t, a, b) => digitAt(t, a, b, 3))).toBe(3);
    expect(within("[]", (t, a, b) => digitAt(t, a, b, 3))).toBeNull();
    for (const odd of ["4", "10", " ", "a"]) expect(within(`[${odd}]`, (t, a, b) => digitAt(t, a, b, 3))).toBe(-1);
  });

  it("finds exactly the expected number of fields within the line", () => {
    const text = "junk\nt1,08:00:00,,s1\nnext,line";
    const from = text.indexOf("t1");
    const to = text.indexOf("\nnext");
    const ends = new Int32Array(4);
    expect(fieldEnds(text, from, to, ends, 4)).toBe(true);
    const fields = [...ends].map((end, k) => text.slice(k === 0 ? from : ends[k - 1]! + 1, end));
    expect(fields).toEqual(["t1", "08:00:00", "", "s1"]);
    expect(fieldEnds(text, from, to, new Int32Array(3), 3)).toBe(false); // one field too many
    expect(fieldEnds(text, from, to, new Int32Array(5), 5)).toBe(false); // the next line's comma is not counted
  });
});
