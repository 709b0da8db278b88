// The OpenAPI document the service serves, linted by Redocly's CLI with the recommended rules
// (redocly.yaml says which are off and why): 0 errors and 0 warnings. Also what the document promises
// beyond the linter: security on /v1 only, the error envelope and its codes on every /v1 operation,
// numeric parameters described as numbers.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ERROR_CODES } from "../../src/http/contract";
import { docBlocks } from "../support/docs";
import { REPO_ROOT } from "../support/repo";
import { runProcess } from "../support/run";
import { createTestApp, type TestApp } from "../support/test-app";

// biome-ignore lint/suspicious/noExplicitAny: the OpenAPI document is untyped JSON here.
type Json = Record<string, any>;

function redocly(args: string[]) {
  return runProcess(join(REPO_ROOT, "node_modules", ".bin", "redocly"), args, {
    // No usage report, no update check: the lint must work offline (redocly.yaml says so too).
    env: { ...process.env, REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true", NO_COLOR: "1" },
  });
}

describe("the OpenAPI document", () => {
  let app: TestApp;
  let doc: Json;
  let dir: string;
  beforeAll(async () => {
    app = await createTestApp({ API_KEY: "lint-key-0123456789", APP_VERSION: "1.2.3" });
    doc = await (await app.fetch("/swagger/json")).json();
    dir = mkdtempSync(join(tmpdir(), "tapi-openapi-"));
  });
  afterAll(async () => {
    await app?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("passes Redocly's recommended rules with no error and no warning", async () => {
    const file = join(dir, "openapi.json");
    writeFileSync(file, JSON.stringify(doc, null, 2));
    const run = await redocly(["lint", file, "--config", join(REPO_ROOT, "redocly.yaml"), "--format", "json"]);
    const report = JSON.parse(run.stdout.slice(run.stdout.indexOf("{"))) as {
      totals: { errors: number; warnings: number; ignored: number };
      problems: { ruleId: string; message: string; location: { pointer: string }[] }[];
    };
    const problems = report.problems.map((p) => `${p.ruleId} ${p.location[0]?.pointer}: ${p.message}`);
    expect(problems).toEqual([]);
    expect(report.totals).toEqual({ errors: 0, warnings: 0, ignored: 0 });
    expect(run.code, run.stderr).toBe(0);
  }, 60_000);

  it("asks for the API key (X-API-Key or Bearer) on /v1 operations only", () => {
    expect(doc.components.securitySchemes).toEqual({
      apiKey: expect.objectContaining({ type: "apiKey", in: "header", name: "X-API-Key" }),
      bearer: expect.objectContaining({ type: "http", scheme: "bearer" }),
    });
    expect(doc.security).toEqual([{ apiKey: [] }, { bearer: [] }]);
    const paths = Object.keys(doc.paths);
    expect(paths).toEqual(expect.arrayContaining(["/health", "/ready", "/version", "/v1/stops/{stopId}/departures"]));
    for (const path of paths)
      for (const [method, op] of Object.entries<Json>(doc.paths[path]))
        expect(op.security, `${method} ${path}`).toEqual(path.startsWith("/v1/") ? undefined : []);
  });

  it("documents the error envelope with its codes, the 200 body and the 304 of every /v1 operation", () => {
    const errors = doc.components.responses as Record<string, Json>;
    const documentedCodes = Object.values(errors).flatMap((r) => Object.keys(r.content["application/json"].examples));
    // All but 403, which only CORS preflights get (they are not operations of the document).
    const { 403: _preflightOnly, ...operationErrors } = ERROR_CODES;
    expect(documentedCodes.sort()).toEqual(
      Object.values(operationErrors)
        .flatMap((codes) => Object.keys(codes))
        .sort(),
    );
    for (const [path, item] of Object.entries<Json>(doc.paths)) {
      if (!path.startsWith("/v1/")) continue;
      const op = item.get;
      const where = `GET ${path}`;
      expect(Object.keys(op.responses), where).toEqual(
        expect.arrayContaining(["200", "304", "400", "401", "429", "500", "503", "504"]),
      );
      expect(op.responses["401"], where).toEqual({ $ref: "#/components/responses/Unauthorized" });
      // JSON, GeoJSON (RFC 7946's media type), or both where the answer is negotiated: each with an example.
      const media = Object.entries<Json>(op.responses["200"].content);
      expect(media.length, where).toBeGreaterThan(0);
      for (const [type, m] of media) {
        expect(["application/json", "application/geo+json"], where).toContain(type);
        expect(m.schema, `${where} ${type}`).toBeTruthy();
        expect(m.example, `${where} ${type}`).toBeTruthy();
      }
      if (path.includes("{")) expect(op.responses["404"], where).toEqual({ $ref: "#/components/responses/NotFound" });
    }
  });

  it("describes numeric parameters as numbers with the default the handler applies", () => {
    const params = Object.values<Json>(doc.paths).flatMap((item) =>
      Object.values<Json>(item).flatMap((op) => (op.parameters ?? []) as Json[]),
    );
    const numeric = params.filter((p) => p.schema.type === "integer" || p.schema.type === "number");
    expect(numeric.map((p) => p.name)).toEqual(expect.arrayContaining(["limit", "lat", "lon", "radius", "window"]));
    for (const p of params) {
      expect(p.schema.anyOf, p.name).toBeUndefined();
      if (p.schema.default !== undefined && p.schema.minimum !== undefined)
        expect(p.schema.default, p.name).toBeGreaterThanOrEqual(p.schema.minimum);
    }
    const window = params.find((p) => p.name === "window")!;
    expect(window.schema).toEqual({ type: "integer", minimum: 1, maximum: 1440, default: 60 });
  });

  it("has the same error codes as docs/api.md's table", () => {
    const docs = readFileSync(join(REPO_ROOT, "docs/api.md"), "utf8");
    const rows = [
      ...docs
        .split("| status | code | when |")[1]!
        .split("\n\n")[0]!
        .matchAll(/^\| (\d{3}) \| `(\w+)` \| (.+) \|$/gm),
    ];
    const table: Record<string, Record<string, string>> = {};
    for (const [, status, code, when] of rows) table[status!] = { ...table[status!], [code!]: when! };
    expect(table).toEqual(JSON.parse(JSON.stringify(ERROR_CODES)));
  });

  it("serves /swagger with the Content-Security-Policy docs/api.md shows, and its assets from this server", async () => {
    const page = await app.fetch("/swagger");
    const csp = page.headers.get("content-security-policy");
    const shown = docBlocks("docs/api.md", "Docs page: `/swagger`", "text")[0]!.replace(/\s+/g, " ").trim();
    expect(csp).toBe(shown);
    const html = await page.text();
    const sources = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(sources.length).toBe(3);
    for (const source of sources) {
      expect(source).not.toMatch(/^(https?:)?\/\//);
      const asset = await app.fetch(`/${source}`, { headers: { "accept-encoding": "gzip" } });
      expect(asset.status, source).toBe(200);
      if (source.includes("/assets/")) expect(asset.headers.get("cache-control")).toContain("immutable");
    }
  });

  it("sends /swagger/ to /swagger, where the page's relative asset URLs resolve", async () => {
    const slash = await app.fetch("/swagger/?tab=1");
    expect(slash.status).toBe(308);
    const target = new URL(slash.headers.get("location")!, "http://api.test/swagger/");
    expect(target.pathname + target.search).toBe("/swagger?tab=1");
    // What the browser then asks for, resolved against the page it lands on.
    const html = await (await app.fetch(target.pathname)).text();
    for (const [, source] of html.matchAll(/(?:src|href)="([^"]+)"/g))
      expect((await app.fetch(new URL(source!, target).pathname)).status, source).toBe(200);
  });
});
