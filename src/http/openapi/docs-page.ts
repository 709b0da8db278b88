// The docs page at /swagger: Swagger UI from the installed swagger-ui-dist (its version pinned in
// package.json), never from a CDN — the page works wherever the API does, and only reviewed code runs
// in it. Its Content-Security-Policy allows this origin only, so the page can reach nothing else; the
// configuration is a served script, not an inline one, so no 'unsafe-inline' is needed for scripts.
// Assets are prepared answers (src/http/answer.ts): ETag, compression, under a versioned URL that
// may be cached for good. /swagger/json serves the OpenAPI document (src/http/openapi/document.ts).
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { Elysia } from "elysia";
import { Answer, type CompressionOptions } from "../answer";

/**
 * What the page may load: scripts, styles, fonts and fetches from this origin; images also as data:
 * URLs, which swagger-ui.css uses for its icons. Nothing inline, no frames, no form posts elsewhere.
 * Swagger UI sets `style` properties from script (CSSOM), which a CSP does not restrict.
 */
export const DOCS_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

const require = createRequire(import.meta.url);
const DIST = dirname(require.resolve("swagger-ui-dist/package.json"));
export const SWAGGER_UI_VERSION = (JSON.parse(readFileSync(join(DIST, "package.json"), "utf8")) as { version: string })
  .version;

const IMMUTABLE = "public, max-age=31536000, immutable";
const REVALIDATE = "no-cache";

export interface DocsPageOptions {
  title: string;
  /** The OpenAPI document, built on first request (the routes must all be mounted by then). */
  document: () => unknown;
  compression: CompressionOptions;
}

export function docsPage(options: DocsPageOptions) {
  const assets = `swagger/assets/${SWAGGER_UI_VERSION}`;
  // Relative URLs (from /swagger): the page keeps working behind a proxy that mounts it under a prefix.
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(options.title)}</title>
<link rel="stylesheet" href="${assets}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="${assets}/swagger-ui-bundle.js"></script>
<script src="swagger/init.js"></script>
</body>
</html>
`;
  const init = `window.ui = SwaggerUIBundle(${JSON.stringify({
    url: "swagger/json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    // The default sends the document to validator.swagger.io; the CSP would refuse it anyway.
    validatorUrl: null,
    displayRequestDuration: true,
  })});\n`;

  const js = { cacheControl: IMMUTABLE, contentType: "text/javascript; charset=utf-8" };
  let bundle: Answer | undefined;
  let css: Answer | undefined;
  let spec: Answer | undefined;
  const initScript = new Answer(init, { cacheControl: REVALIDATE, contentType: js.contentType }, options.compression);
  const page = new Answer(
    html,
    { cacheControl: REVALIDATE, contentType: "text/html; charset=utf-8" },
    options.compression,
  );
  const read = (file: string) => readFileSync(join(DIST, file), "utf8");

  // The page's own routes are not operations of the API: the OpenAPI document leaves them out.
  const hidden = { detail: { hide: true } };
  return new Elysia({ name: "docs-page" })
    .get(
      "/swagger",
      ({ request }) => {
        // The page's asset URLs are relative to /swagger: from /swagger/ (matched here too) they would
        // miss, and the page would stay blank.
        const url = new URL(request.url);
        if (url.pathname.endsWith("/"))
          return new Response(null, { status: 308, headers: { location: `/swagger${url.search}` } });
        const response = page.serve(request);
        response.headers.set("content-security-policy", DOCS_CSP);
        response.headers.set("x-content-type-options", "nosniff");
        response.headers.delete("x-cache");
        return response;
      },
      hidden,
    )
    .get("/swagger/init.js", ({ request }) => initScript.serve(request), hidden)
    .get(
      `/${assets}/swagger-ui-bundle.js`,
      ({ request }) => {
        bundle ??= new Answer(read("swagger-ui-bundle.js"), js, options.compression);
        return bundle.serve(request);
      },
      hidden,
    )
    .get(
      `/${assets}/swagger-ui.css`,
      ({ request }) => {
        css ??= new Answer(
          read("swagger-ui.css"),
          { cacheControl: IMMUTABLE, contentType: "text/css; charset=utf-8" },
          options.compression,
        );
        return css.serve(request);
      },
      hidden,
    )
    .get(
      "/swagger/json",
      ({ request }) => {
        spec ??= new Answer(JSON.stringify(options.document()), { cacheControl: REVALIDATE }, options.compression);
        return spec.serve(request);
      },
      hidden,
    );
}

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
