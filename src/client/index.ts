// A typed client for the API (Elysia's Eden treaty): paths, parameters and answers are typed from the
// routes' declared schemas through the app's type, so a change to an answer's schema breaks the
// client's callers at compile time. Only the type of the app is imported: the client carries none of
// the server's code and runs wherever fetch does (browsers, Node, Bun, Deno).
import { treaty } from "@elysiajs/eden";
import type { App } from "../app";

export type { App };

export interface ClientOptions {
  /** Sent as X-API-Key on every request (the API also accepts it as `Authorization: Bearer`). */
  apiKey?: string;
  /** Headers for every request, e.g. Accept-Encoding or a request id. */
  headers?: Record<string, string>;
  /** Another fetch (a test's, a proxy's); the global one by default. */
  fetch?: typeof fetch;
}

/**
 * `createClient("https://transit.example.org", { apiKey })` → `client.v1.stops({ stopId }).departures.get()`
 * resolves to `{ data, error, status, headers, response }`: `data` is the typed 200 body, `error` the
 * typed error envelope of the status answered.
 */
export function createClient(baseUrl: string, options: ClientOptions = {}) {
  return treaty<App>(baseUrl, {
    headers: { ...options.headers, ...(options.apiKey ? { "x-api-key": options.apiKey } : {}) },
    ...(options.fetch ? { fetcher: options.fetch } : {}),
  });
}

export type Client = ReturnType<typeof createClient>;
