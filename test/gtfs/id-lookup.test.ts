// Stop ids looked up where they sit in a line of stop_times.txt, without a string per lookup.
import { describe, expect, it } from "vitest";
import { IdLookup } from "../../src/modules/gtfs/import/id-lookup";

describe("id lookup by text range", () => {
  it("finds every id at any position and nothing else", () => {
    const ids = new Map<string, number>();
    for (let i = 0; i < 5000; i++) ids.set(`s${i}`, i + 1);
    ids.set("Zürich HB", 9001);
    ids.set("a,b", 9002);
    const lookup = new IdLookup(ids);
    for (const [id, value] of ids) {
      const line = `trip-7,08:00:00,${id},3`;
      const from = line.indexOf(id);
      expect(lookup.get(line, from, from + id.length)).toBe(value);
    }
    const line = "t,s12,s123x,s5000,,S1";
    const at = (id: string) => lookup.get(line, line.indexOf(id), line.indexOf(id) + id.length);
    expect(at("s12")).toBe(13);
    expect(at("s123x")).toBe(-1); // a longer text that starts with an id
    expect(at("s5000")).toBe(-1);
    expect(at("S1")).toBe(-1); // case matters
    expect(lookup.get(line, 2, 2)).toBe(-1); // empty
    expect(lookup.get("xs1", 1, 2)).toBe(-1); // a prefix of an id ("s" of "s1")
  });

  it("works with an empty id set", () => {
    expect(new IdLookup(new Map()).get("abc", 0, 3)).toBe(-1);
  });
});
