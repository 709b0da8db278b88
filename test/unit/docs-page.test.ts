// The docs page's wiring, in process (test/integration/docs-page.test.ts opens it in chromium): the
// page loads its stylesheet and scripts from this server with the content types a browser needs, the
// served configuration script starts Swagger UI on the page's element with the served document, the
// page and its script revalidate while the versioned assets are kept for good, and the title is text.
import { describe, expect, it } from "vitest";
import { DOCS_CSP, docsPage, SWAGGER_UI_VERSION } from "../../src/http/openapi/docs-page";

const DOCUMENT = { openapi: "3.1.1", info: { title: "docs page test", version: "0" }, paths: {} };
const ORIGIN = "http://api.test";

function page(title = "transportation-api") {
  const plugin = docsPage({ title, document: () => DOCUMENT, compression: { enabled: true, minBytes: 1024 } });
  return { plugin, get: (path: string) => plugin.handle(new Request(new URL(path, ORIGIN))) };
}

/** The URLs the page's HTML loads, by tag, resolved against the page's own URL as a browser does. */
function loads(html: string, pageUrl: string) {
  const resolve = (source: string) => new URL(source, pageUrl);
  return {
    scripts: [...html.matchAll(/<script src="([^"]+)"><\/script>/g)].map((m) => resolve(m[1]!)),
    stylesheets: [...html.matchAll(/<link rel="stylesheet" href="([^"]+)">/g)].map((m) => resolve(m[1]!)),
  };
}

/** Runs the configuration script with a stand-in for Swagger UI's global, returning what it was given. */
function configOf(script: string): Record<string, unknown>[] {
  const calls: Record<string, unknown>[] = [];
  const window: Record<string, unknown> = {};
  new Function("window", "SwaggerUIBundle", script)(window, (config: Record<string, unknown>) => {
    calls.push(config);
    return { started: true };
  });
  expect(window.ui).toEqual({ started: true });
  return calls;
}

/** The five characters HTML escapes in text, decoded. */
const decodeText = (s: string) =>
  s.replace(/&(amp|lt|gt|quot|#39);/g, (_, e: string) => ({ amp: "&", lt: "<", gt: ">", quot: '"', "#39": "'" })[e]!);

describe("the /swagger docs page", () => {
  it("answers with its Content-Security-Policy, nosniff and a revalidated HTML page", async () => {
    const res = await page().get("/swagger");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html\b/);
    expect(res.headers.get("content-security-policy")).toBe(DOCS_CSP);
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    // Its URL stays the same across versions: caches must ask again (RFC 9111 5.2.2.4).
    expect(res.headers.get("cache-control")).toBe("no-cache");
    expect(res.headers.get("etag")).toMatch(/^W\//);
  });

  it("loads each stylesheet and script from this server with the type a browser needs, scripts last", async () => {
    const docs = page();
    const html = await (await docs.get("/swagger")).text();
    const { scripts, stylesheets } = loads(html, `${ORIGIN}/swagger`);
    expect(scripts.length).toBe(2);
    expect(stylesheets.length).toBe(1);
    for (const url of [...scripts, ...stylesheets]) expect(url.origin).toBe(ORIGIN);
    for (const url of scripts) {
      const res = await docs.get(url.href);
      expect(res.status, url.pathname).toBe(200);
      expect(res.headers.get("content-type"), url.pathname).toMatch(/^text\/javascript\b/);
      expect((await res.text()).length, url.pathname).toBeGreaterThan(0);
    }
    for (const url of stylesheets) {
      const res = await docs.get(url.href);
      expect(res.status, url.pathname).toBe(200);
      expect(res.headers.get("content-type"), url.pathname).toMatch(/^text\/css\b/);
    }
  });

  it("keeps the versioned assets for good, and revalidates what keeps its URL across versions", async () => {
    const docs = page();
    const html = await (await docs.get("/swagger")).text();
    const { scripts, stylesheets } = loads(html, `${ORIGIN}/swagger`);
    for (const url of [...scripts, ...stylesheets, new URL("/swagger/json", ORIGIN)]) {
      const cacheControl = (await docs.get(url.href)).headers.get("cache-control");
      if (url.pathname.includes(`/${SWAGGER_UI_VERSION}/`)) expect(cacheControl, url.pathname).toContain("immutable");
      else expect(cacheControl, url.pathname).toBe("no-cache");
    }
  });

  it("starts Swagger UI once, on the page's element, with the document this server serves", async () => {
    const docs = page();
    const html = await (await docs.get("/swagger")).text();
    const { scripts } = loads(html, `${ORIGIN}/swagger`);
    // The last script is the configuration: the bundle before it defines SwaggerUIBundle.
    const init = scripts.at(-1)!;
    const calls = configOf(await (await docs.get(init.href)).text());
    expect(calls.length).toBe(1);
    const config = calls[0]!;
    expect(config.dom_id).toMatch(/^#/);
    expect(html).toContain(`<div id="${(config.dom_id as string).slice(1)}"></div>`);
    const spec = await docs.get(new URL(config.url as string, `${ORIGIN}/swagger`).href);
    expect(spec.status).toBe(200);
    expect(await spec.json()).toEqual(DOCUMENT);
    // Links to an operation open it; each "Try it out" shows how long it took; the document is sent to
    // no validator (the default is validator.swagger.io, which the CSP refuses anyway).
    expect(config.deepLinking).toBe(true);
    expect(config.displayRequestDuration).toBe(true);
    expect(config.validatorUrl).toBeNull();
  });

  it("shows the title as text, whatever characters it has", async () => {
    const title = `A&B <i>"transit"</i> 'api' &amp;`;
    const html = await (await page(title).get("/swagger")).text();
    const shown = html.match(/<title>([^<]*)<\/title>/)?.[1];
    expect(shown).toBeDefined();
    expect(decodeText(shown!)).toBe(title);
  });
});
