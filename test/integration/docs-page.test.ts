// The docs page (/swagger) in a real headless browser: Debian's chromium driven by playwright-core,
// every request to anything but the service aborted. The page must load from the service alone (no
// CDN), break no rule of its Content-Security-Policy, list the operations, and run one "Try it out"
// of a /v1 operation with the API key given in the Authorize dialog. Skipped, saying so, where
// chromium is not installed (.ci/run installs it).
import { existsSync } from "node:fs";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SAMPLE_DIR, SLOW } from "../gtfs/helpers";
import { type AppServer, runMain, startAppServer } from "../support/app-server";
import { createTestDatabase, type TestDatabase } from "../support/services";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`docs page test skipped: no chromium at ${CHROMIUM} (apt-get install chromium)`);

const KEY = "docs-page-key-0123456789";
const UI_TIMEOUT = 30_000;

describe.skipIf(!hasChromium)("the /swagger docs page in chromium", () => {
  let db: TestDatabase;
  let server: AppServer;
  let browser: Browser;
  let page: Page;
  const blocked: string[] = [];
  const problems: string[] = [];

  beforeAll(async () => {
    db = await createTestDatabase("docs");
    for (const args of [["migrate"], ["import", SAMPLE_DIR]]) {
      const run = runMain(args, { DATABASE_URL: db.url, LOG_LEVEL: "warn" });
      expect(await run.exited, run.output()).toBe(0);
    }
    server = await startAppServer({ env: { DATABASE_URL: db.url, API_KEYS: `docs:${KEY}`, LOG_LEVEL: "warn" } });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox"] });
    const context = await browser.newContext({ serviceWorkers: "block" });
    // The network is the service: anything else is recorded and refused.
    await context.route(
      (url) => url.origin !== server.url,
      (route) => {
        blocked.push(route.request().url());
        return route.abort("blockedbyclient");
      },
    );
    page = await context.newPage();
    page.on("console", (m) => {
      if (m.type() === "error") problems.push(`${m.text()} (${m.location().url})`);
    });
    page.on("pageerror", (e) => problems.push(String(e)));
  }, SLOW);
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await db?.drop();
  }, SLOW);

  it(
    "lists the operations from the service alone, within its Content-Security-Policy",
    async () => {
      const response = await page.goto(`${server.url}/swagger`);
      expect(response?.status()).toBe(200);
      expect(response?.headers()["content-security-policy"]).toContain("default-src 'none'");
      await page.locator(".opblock").first().waitFor({ timeout: UI_TIMEOUT });
      const listed = await page.locator(".opblock-summary-path").allInnerTexts();
      const paths = listed.map((p) => p.replace(/\u200b/g, "").trim());
      expect(paths).toEqual(
        expect.arrayContaining(["/health", "/v1/feeds", "/v1/stops/{stopId}/departures", "/v1/trips/{tripId}"]),
      );
      const doc = (await (await fetch(`${server.url}/swagger/json`)).json()) as { paths: Record<string, unknown> };
      expect(paths.length).toBe(Object.keys(doc.paths).length);
      // Content-Security-Policy violations are console errors. The browser's own request for
      // /favicon.ico, answered 404, is the only error allowed.
      expect(problems.filter((p) => !p.endsWith("/favicon.ico)"))).toEqual([]);
      expect(blocked).toEqual([]);
    },
    SLOW,
  );

  it(
    "runs Try it out on GET /v1/feeds with the key from the Authorize dialog",
    async () => {
      await page.getByRole("button", { name: "Authorize" }).first().click();
      // One form per scheme (its buttons are labelled for screen readers, so found by class and text).
      const apiKeyForm = page.locator(".modal-ux .auth-container").filter({ hasText: "X-API-Key" });
      await apiKeyForm.locator("#api_key_value").fill(KEY);
      await apiKeyForm.locator("button.authorize").click();
      await apiKeyForm.locator("button", { hasText: "Logout" }).waitFor({ timeout: UI_TIMEOUT });
      await apiKeyForm.locator("button.btn-done").click();

      const operation = page.locator("#operations-transit-listFeeds");
      await operation.locator(".opblock-summary").click();
      await operation.getByRole("button", { name: "Try it out" }).click();
      const answered = page.waitForResponse((r) => r.url() === `${server.url}/v1/feeds`);
      await operation.getByRole("button", { name: "Execute" }).click();
      const response = await answered;
      expect(response.status()).toBe(200);
      expect(response.request().headers()["x-api-key"]).toBe(KEY);
      // The page shows the answer it got (playwright waits for it to appear).
      const live = operation.locator(".live-responses-table tbody td.response-col_status");
      await live.filter({ hasText: "200" }).waitFor({ timeout: UI_TIMEOUT });
      const body = (await operation.locator(".live-responses-table tbody .microlight").first().textContent()) ?? "";
      expect(JSON.parse(body).data[0].publisher_name).toBe("Some Transit Authority");
      expect(problems.filter((p) => !p.endsWith("/favicon.ico)"))).toEqual([]);
      expect(blocked).toEqual([]);
    },
    SLOW,
  );
});
