// A feed's location as it may leave the process (the import's trace): feed URLs carry agencies' keys
// in the userinfo or the query, which must not reach a trace collector.
import { describe, expect, it } from "vitest";
import { publicLocation } from "../../src/lib/public-url";

describe("publicLocation", () => {
  it("keeps a URL's origin and path and drops userinfo, query and fragment", () => {
    const cases: [string, string][] = [
      ["https://user:pa55@feeds.example.org/gtfs.zip", "https://feeds.example.org/gtfs.zip"],
      ["https://feeds.example.org/gtfs.zip?api_key=S3CRET&x=1", "https://feeds.example.org/gtfs.zip"],
      ["https://feeds.example.org:8443/a/b.zip#token=S3CRET", "https://feeds.example.org:8443/a/b.zip"],
      ["http://feeds.example.org/gtfs.zip", "http://feeds.example.org/gtfs.zip"],
    ];
    for (const [location, shown] of cases) {
      expect(publicLocation(location)).toBe(shown);
      expect(publicLocation(location)).not.toMatch(/S3CRET|pa55/);
    }
  });

  it("shows a local path as it is", () => {
    for (const path of ["./feeds/gtfs.zip", "/data/feed dir", "C:\\feeds\\gtfs.zip", "feed?.zip"])
      expect(publicLocation(path)).toBe(path);
  });
});
