// The CORS rules of src/http/cors.ts on their own, without an app: which requests are preflights, what a
// refused one says, and what an allowed one tells the browser and the caches between (Fetch standard,
// "CORS protocol"). test/unit/cors.test.ts checks the same rules through the whole app.
import { describe, expect, it } from "vitest";
import { createCors } from "../../src/http/cors";

const MAPS = "https://maps.example.org";
const listed = { cors_origins: [MAPS], cors_credentials: false, cors_max_age: 600 };

const request = (method: string, headers: Record<string, string>) =>
  new Request("http://api.test/v1/feeds", { method, headers });
const list = (value: string | null) => (value ?? "").toLowerCase().split(/,\s*/);

describe("CORS preflights", () => {
  const cors = createCors(listed)!;

  it("are OPTIONS requests with Access-Control-Request-Method; others are left to the app", () => {
    expect(cors.preflight(request("OPTIONS", { origin: MAPS, "access-control-request-method": "GET" }))?.status).toBe(
      204,
    );
    expect(cors.preflight(request("GET", { origin: MAPS, "access-control-request-method": "GET" }))).toBeUndefined();
    expect(cors.preflight(request("OPTIONS", { origin: MAPS }))).toBeUndefined();
  });

  it("are refused for an origin not listed, with a message naming it (or saying there was none)", async () => {
    const other = "https://evil.example.com";
    const refused = cors.preflight(request("OPTIONS", { origin: other, "access-control-request-method": "GET" }))!;
    expect(refused.status).toBe(403);
    const { error } = await refused.json();
    expect(error.code).toBe("ORIGIN_NOT_ALLOWED");
    expect(error.message).toContain(other);

    const anonymous = cors.preflight(request("OPTIONS", { "access-control-request-method": "GET" }))!;
    expect(anonymous.status).toBe(403);
    const message: string = (await anonymous.json()).error.message;
    expect(message).toMatch(/\bnone\b/);
    expect(message).not.toMatch(/null|undefined/);
  });

  it("are answered for as long as the browser may reuse them, by shared caches too, per requested method and headers", () => {
    for (const maxAge of [0, 600, 86_400]) {
      const answer = createCors({ ...listed, cors_max_age: maxAge })!.preflight(
        request("OPTIONS", { origin: MAPS, "access-control-request-method": "GET" }),
      )!;
      expect(answer.headers.get("access-control-max-age")).toBe(String(maxAge));
      expect(answer.headers.get("cache-control")).toMatch(new RegExp(`(^|,\\s*)max-age=${maxAge}(,|$)`));
      expect(list(answer.headers.get("cache-control"))).toContain("public");
      expect(list(answer.headers.get("vary"))).toEqual(
        expect.arrayContaining(["access-control-request-method", "access-control-request-headers"]),
      );
    }
  });
});

describe("CORS credentials", () => {
  const preflightFrom = (origin: string) =>
    request("OPTIONS", {
      origin,
      "access-control-request-method": "GET",
      "access-control-request-headers": "x-api-key",
    });

  it("are allowed on preflights and answers to a listed origin only when configured", () => {
    for (const credentials of [true, false]) {
      const cors = createCors({ ...listed, cors_credentials: credentials })!;
      const expected = credentials ? "true" : null;
      expect(cors.preflight(preflightFrom(MAPS))!.headers.get("access-control-allow-credentials")).toBe(expected);
      const answer = new Response("{}");
      cors.decorate(request("GET", { origin: MAPS }), answer);
      expect(answer.headers.get("access-control-allow-credentials")).toBe(expected);
      const stranger = new Response("{}");
      cors.decorate(request("GET", { origin: "https://evil.example.com" }), stranger);
      expect(stranger.headers.get("access-control-allow-credentials")).toBeNull();
    }
  });

  it('are never allowed together with "*"', () => {
    const cors = createCors({ ...listed, cors_origins: ["*"], cors_credentials: true })!;
    const answer = cors.preflight(preflightFrom(MAPS))!;
    expect(answer.headers.get("access-control-allow-origin")).toBe("*");
    expect(answer.headers.get("access-control-allow-credentials")).toBeNull();
  });
});
