// Which request URLs are refused before any handler runs (src/http/url-safety.ts), and what the 400's
// message says: a NUL byte, a percent-escape that is not UTF-8, a query parameter given twice (however
// its name is spelled: the router decodes names). Everything else passes, `&` in a path included.
// URLs go through `new Request` first, so each is checked as a server receives it.
import { describe, expect, it } from "vitest";
import { urlProblem } from "../../src/http/url-safety";

const problemOf = (pathAndQuery: string) => urlProblem(new Request(`http://localhost${pathAndQuery}`).url);

/** The parameter name a "given more than once" message quotes, or undefined for any other answer. */
const repeatedName = (problem: string | undefined) =>
  problem?.match(/^query parameter '(.*)' is given more than once$/s)?.[1];

describe("URLs every handler can use", () => {
  it.each([
    "/v1/stops",
    "/v1/stops?q=central",
    "/v1/stops/nearby?lat=40.75&lon=-73.99&radius=500",
    // Escapes that decode to UTF-8, in the path and in the query, a `%` sent as %25 included.
    "/v1/stops/caf%C3%A9/departures?at=2024-06-12T08%3A00%3A00%2B02%3A00",
    "/v1/stops?q=100%25+sure",
    // `&` and `=` in a path are not query separators: nothing here is a query parameter given twice.
    "/v1/stops/a&b&b",
    "/v1/routes/R=1&R=1?limit=5&q=a",
    // Pairs without a name are no parameter: empty ones, and `=value` ones.
    "/v1/stops?&q=a&&limit=5&",
    "/v1/stops?=1&=1&q=a",
    // The same value under different names.
    "/v1/stops/nearby?lat=1&lon=1",
  ])("%s passes", (path) => {
    expect(problemOf(path)).toBeUndefined();
  });
});

describe("a NUL byte", () => {
  it.each([
    "/v1/stops/%00",
    "/v1/stops/a%00b/departures",
    "/v1/stops?q=central%00",
    // After escapes that are fine, and as the runtime encodes a raw NUL.
    "/v1/stops/caf%C3%A9?q=%41%00",
    "/v1/stops?q=a\u0000b",
  ])("in %j is refused, naming the NUL byte", (path) => {
    expect(problemOf(path)).toMatch(/NUL byte/);
  });
});

describe("a percent-escape that is not UTF-8", () => {
  it.each([
    ["malformed", "/v1/stops/%zz"],
    ["cut short", "/v1/stops?q=%E0%A4%A"],
    ["a lone %", "/v1/stops?q=100%"],
    ["not UTF-8", "/v1/stops/%FF"],
    ["overlong", "/v1/stops/%C0%80"],
    ["a lone surrogate", "/v1/stops/%ED%A0%80"],
    ["after escapes that are fine", "/v1/stops/caf%C3%A9?q=%41&limit=%FF"],
  ])("%s (%s) is refused, naming the percent-escape", (_kind, path) => {
    const problem = problemOf(path);
    expect(problem).toMatch(/percent-escape/);
    expect(problem).not.toMatch(/NUL/);
  });
});

describe("a query parameter given more than once", () => {
  it.each([
    ["the first one", "/v1/stops?q=a&q=b", "q"],
    ["a later one", "/v1/stops/nearby?lon=0&lat=0&radius=5&lat=1", "lat"],
    ["with the same value", "/v1/stops?limit=5&limit=5", "limit"],
    ["without a value", "/v1/stops?flag&flag", "flag"],
    ["once with, once without a value", "/v1/stops?q&q=a", "q"],
  ])("%s is refused, naming it", (_which, path, name) => {
    expect(repeatedName(problemOf(path))).toBe(name);
  });

  // The router decodes parameter names ('+' is a blank), so these are one parameter given twice: letting
  // them through would hand a handler an array or one of the two values.
  it.each([
    ["an escaped letter", "/v1/stops?q=a&%71=b", "q"],
    ["an escaped underscore", "/v1/alerts?stop_id=a&stop%5Fid=b", "stop_id"],
    ["a blank as + and as %20", "/v1/stops?a+b=1&a%20b=2", "a b"],
    ["escapes in upper and lower case", "/v1/stops?caf%C3%A9=1&caf%c3%a9=2", "café"],
  ])("%s is the same name however it is spelled: refused, naming it decoded", (_how, path, name) => {
    expect(repeatedName(problemOf(path))).toBe(name);
  });

  it("a name that cannot be decoded is quoted as sent", () => {
    expect(repeatedName(problemOf("/v1/stops?%FF=1&%FF=2"))).toBe("%FF");
  });

  it("names differing only by case are different parameters", () => {
    expect(problemOf("/v1/stops?q=a&Q=b")).toBeUndefined();
  });

  it("is quoted whole up to 64 characters, and cut to its first 64 with an ellipsis beyond", () => {
    for (const length of [1, 63, 64, 65, 500]) {
      const name = "n".repeat(length - 1) + "x";
      const quoted = repeatedName(problemOf(`/v1/stops?${name}=1&${name}=2`));
      expect(quoted, `a name of ${length} characters`).toBe(length <= 64 ? name : `${name.slice(0, 64)}…`);
    }
  });
});
