// The check every answer passes once, when it is built (src/http/contract.ts): an answer that keeps its
// schema goes out as it is; one that breaks it is a defect, thrown as a ContractError whose message (the
// one logged with the request's 500) names the schema and the fields that break it.
import { Type as t } from "@sinclair/typebox";
import { describe, expect, it } from "vitest";
import { ContractError, contract, ERROR_CODES, ErrorBody, v1Errors } from "../../src/http/contract";

const Stop = t.Object({
  stop_id: t.String(),
  stop_name: t.String(),
  location_type: t.Integer({ minimum: 0, maximum: 4 }),
  parent_station: t.Union([t.String(), t.Null()]),
});
const StopList = t.Object({ data: t.Array(Stop), next_cursor: t.Union([t.String(), t.Null()]) });
const checkStops = contract("StopList", StopList);

const good = {
  data: [{ stop_id: "central", stop_name: "Central", location_type: 1, parent_station: null }],
  next_cursor: null,
};

/** What `checkStops(value)` throws (the test fails if it returns). */
function failure(value: unknown): ContractError {
  try {
    checkStops(value as typeof good);
  } catch (err) {
    expect(err).toBeInstanceOf(ContractError);
    return err as ContractError;
  }
  throw new Error("the answer passed its schema");
}

describe("an answer that keeps its schema", () => {
  it("is returned as it is", () => {
    expect(checkStops(good)).toBe(good);
  });
});

describe("an answer that breaks its schema", () => {
  const bad = {
    data: [{ stop_id: "central", stop_name: 7, location_type: 9, parent_station: null }],
    next_cursor: null,
  };

  it("is a ContractError naming the schema and each field that breaks it", () => {
    const err = failure(bad);
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe("ContractError");
    expect(err.schema).toBe("StopList");
    expect(err.problems.map((p) => p.path).sort()).toEqual(["/data/0/location_type", "/data/0/stop_name"]);
    expect(err.message).toContain("StopList");
    // The message lists the problems one by one, each with its field and what is wrong with it.
    const listed = err.message.slice(err.message.indexOf(": ") + 2).split("; ");
    expect(listed).toHaveLength(err.problems.length);
    err.problems.forEach((problem, i) => {
      expect(problem.message).not.toBe("");
      expect(listed[i]).toContain(problem.path);
      expect(listed[i]).toContain(problem.message);
    });
  });

  it("that is not even an object is a problem at the root, named /", () => {
    for (const value of [null, "[]", 42]) {
      const err = failure(value);
      expect(err.problems.map((p) => p.path)).toContain("/");
      expect(err.problems.every((p) => p.path.startsWith("/"))).toBe(true);
    }
  });

  it("names at most five problems, however many there are", () => {
    const many = {
      data: Array.from({ length: 4 }, () => ({ stop_id: 1, stop_name: 2, location_type: -1, parent_station: 3 })),
      next_cursor: 5,
    };
    const err = failure(many);
    expect(err.problems).toHaveLength(5);
    expect(err.message.split("; ")).toHaveLength(5);
  });
});

describe("the error answers of a /v1 operation", () => {
  // Every error status can come from any /v1 operation (bad input, key, budget, outages), except a
  // CORS preflight's 403, which no operation answers, and 404, which only operations that look one
  // thing up answer (and ask for by name).
  const everyOperation = Object.keys(ERROR_CODES)
    .map(Number)
    .filter((status) => status !== 403 && status !== 404);

  it("are the statuses every operation can answer, each in the error envelope", () => {
    const errors: Record<number, unknown> = v1Errors();
    expect(Object.keys(errors).map(Number)).toEqual(everyOperation);
    for (const status of everyOperation) expect(errors[status]).toBe(ErrorBody);
  });

  it("add the statuses an operation names, such as 404 for one stop", () => {
    const errors: Record<number, unknown> = v1Errors(404);
    expect(Object.keys(errors).map(Number)).toEqual([...everyOperation, 404].sort((a, b) => a - b));
    expect(errors[404]).toBe(ErrorBody);
  });
});
