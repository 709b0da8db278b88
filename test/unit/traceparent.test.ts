// Reading the caller's trace id from a W3C `traceparent` header (tracing switched off): valid values
// give their trace id, everything the Trace Context specification calls invalid gives none.
import { describe, expect, it } from "vitest";
import { traceIdOf } from "../../src/observability/tracing";

const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";

describe("traceparent", () => {
  it("gives the trace id of a valid header, also of a later version with more fields", () => {
    expect(traceIdOf(`00-${TRACE}-00f067aa0ba902b7-01`)).toBe(TRACE);
    expect(traceIdOf(`00-${TRACE}-00f067aa0ba902b7-00`)).toBe(TRACE);
    expect(traceIdOf(`cc-${TRACE}-00f067aa0ba902b7-01-what-the-future-adds`)).toBe(TRACE);
  });

  it("gives nothing for an invalid header", () => {
    for (const value of [
      null,
      "",
      "garbage",
      `00-${TRACE.toUpperCase()}-00f067aa0ba902b7-01`, // upper case
      `ff-${TRACE}-00f067aa0ba902b7-01`, // version ff
      `00-${TRACE}-00f067aa0ba902b7-01-extra`, // version 00 has four fields
      `00-${"0".repeat(32)}-00f067aa0ba902b7-01`, // all-zero trace id
      `00-${TRACE}-${"0".repeat(16)}-01`, // all-zero parent id
      `00-${TRACE.slice(1)}-00f067aa0ba902b7-01`, // short trace id
      `00_${TRACE}_00f067aa0ba902b7_01`,
    ])
      expect(traceIdOf(value), String(value)).toBeUndefined();
  });
});
