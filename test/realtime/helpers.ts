// A GTFS-Realtime source for tests: a real HTTP server on 127.0.0.1 (node:http, port 0) serving
// protobuf feeds built with the official bindings, and able to misbehave the ways agency servers do
// (errors, bodies that are not protobuf, no answer, a body that stops half way). Every request is
// recorded, so tests can wait for polls and count them.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import GtfsRealtimeBindings from "gtfs-realtime-bindings";

const { transit_realtime: rt } = GtfsRealtimeBindings;

export { rt };

export type Behaviour =
  | { kind: "feed"; bytes: Uint8Array; etag?: string }
  | { kind: "status"; status: number }
  | { kind: "garbage"; bytes: Uint8Array }
  | { kind: "hang" }
  | { kind: "stall-body"; bytes: Uint8Array };

export interface SourceRequest {
  path: string;
  at: number;
  headers: IncomingMessage["headers"];
  status: number;
}

export interface FeedServer {
  url(path?: string): string;
  /** What the server does from now on for `path` (default "/"). */
  set(behaviour: Behaviour, path?: string): void;
  requests: SourceRequest[];
  close(): Promise<void>;
}

export async function startFeedServer(): Promise<FeedServer> {
  const behaviours = new Map<string, Behaviour>();
  const requests: SourceRequest[] = [];
  const hanging = new Set<ServerResponse>();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? "/").split("?")[0]!;
    const b = behaviours.get(path) ?? { kind: "status", status: 404 };
    const record = (status: number) => requests.push({ path, at: Date.now(), headers: req.headers, status });
    switch (b.kind) {
      case "feed":
        if (b.etag && req.headers["if-none-match"] === b.etag) {
          record(304);
          res.writeHead(304, { etag: b.etag }).end();
          return;
        }
        record(200);
        res.writeHead(200, { "content-type": "application/x-protobuf", ...(b.etag ? { etag: b.etag } : {}) });
        res.end(Buffer.from(b.bytes));
        return;
      case "garbage":
        record(200);
        res.writeHead(200, { "content-type": "application/x-protobuf" }).end(Buffer.from(b.bytes));
        return;
      case "status":
        record(b.status);
        res.writeHead(b.status).end();
        return;
      case "hang":
        record(0);
        hanging.add(res);
        return;
      case "stall-body":
        record(200);
        res.writeHead(200, { "content-type": "application/x-protobuf", "content-length": String(b.bytes.length) });
        res.write(Buffer.from(b.bytes.subarray(0, Math.floor(b.bytes.length / 2))));
        hanging.add(res);
        return;
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: (path = "/") => `http://127.0.0.1:${port}${path}`,
    set: (behaviour, path = "/") => {
      behaviours.set(path, behaviour);
    },
    requests,
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * A FULL_DATASET feed message with the given entities (plain objects as in the .proto, enums by name),
 * built and encoded with the bindings.
 */
export function encodeFeed(timestampSecs: number, entities: Record<string, unknown>[]): Uint8Array {
  const message = rt.FeedMessage.fromObject({
    header: { gtfsRealtimeVersion: "2.0", incrementality: "FULL_DATASET", timestamp: timestampSecs },
    entity: entities,
  });
  return rt.FeedMessage.encode(message).finish();
}

/** Epoch seconds of a wall-clock time with an explicit offset, e.g. "2024-06-12T08:10:00-04:00". */
export const secs = (iso: string) => Date.parse(iso) / 1000;
