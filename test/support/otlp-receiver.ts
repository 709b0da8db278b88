// A local OTLP/HTTP trace receiver: POST /v1/traces with an ExportTraceServiceRequest, as protobuf
// (application/x-protobuf, the OTLP default) or JSON (application/json), answered 200 as the OTLP
// specification asks (opentelemetry.io/docs/specs/otlp/#otlphttp). The protobuf is read with a small
// wire-format reader over the fields of opentelemetry-proto's collector/trace/v1/trace_service.proto
// and trace/v1/trace.proto that the tests look at; everything else is skipped by wire type.
import { createServer, type Server } from "node:http";

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  /** SpanKind: 1 internal, 2 server, 3 client. */
  kind: number;
  attributes: Record<string, string | number | boolean>;
  /** Status code: 0 unset, 1 ok, 2 error. */
  statusCode: number;
  service: string;
}

export interface OtlpReceiver {
  url: string;
  spans: ReceivedSpan[];
  /** Content types of the export requests received so far. */
  contentTypes: string[];
  close(): Promise<void>;
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const contentTypes: string[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (req.method !== "POST" || req.url !== "/v1/traces") {
        res.statusCode = 404;
        res.end();
        return;
      }
      const type = String(req.headers["content-type"] ?? "");
      contentTypes.push(type);
      const body = Buffer.concat(chunks);
      spans.push(...(type.includes("json") ? decodeJson(body.toString("utf8")) : decodeProtobuf(body)));
      res.setHeader("content-type", type.includes("json") ? "application/json" : "application/x-protobuf");
      res.end(type.includes("json") ? "{}" : Buffer.alloc(0));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const addr = server.address();
  const port = typeof addr === "object" && addr ? addr.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    contentTypes,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

// --- protobuf wire format (protobuf.dev/programming-guides/encoding) --------------------------------

type Field = { no: number; wire: number; value: bigint | Buffer };

function* fields(buf: Buffer): Generator<Field> {
  let pos = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const byte = buf[pos++]!;
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7n;
    }
  };
  while (pos < buf.length) {
    const tag = Number(varint());
    const no = tag >>> 3;
    const wire = tag & 7;
    if (wire === 0) yield { no, wire, value: varint() };
    else if (wire === 1) {
      yield { no, wire, value: buf.subarray(pos, pos + 8) };
      pos += 8;
    } else if (wire === 2) {
      const len = Number(varint());
      yield { no, wire, value: buf.subarray(pos, pos + len) };
      pos += len;
    } else if (wire === 5) {
      yield { no, wire, value: buf.subarray(pos, pos + 4) };
      pos += 4;
    } else throw new Error(`unsupported wire type ${wire}`);
  }
}

const bytesOf = (f: Field) => f.value as Buffer;

/** AnyValue: 1 string, 2 bool, 3 int, 4 double. */
function anyValue(buf: Buffer): string | number | boolean {
  for (const f of fields(buf)) {
    if (f.no === 1) return bytesOf(f).toString("utf8");
    if (f.no === 2) return f.value === 1n;
    if (f.no === 3) return Number(f.value as bigint);
    if (f.no === 4) return bytesOf(f).readDoubleLE(0);
  }
  return "";
}

/** KeyValue: 1 key, 2 value. */
function keyValue(buf: Buffer): [string, string | number | boolean] {
  let key = "";
  let value: string | number | boolean = "";
  for (const f of fields(buf)) {
    if (f.no === 1) key = bytesOf(f).toString("utf8");
    if (f.no === 2) value = anyValue(bytesOf(f));
  }
  return [key, value];
}

/** Span: 1 trace_id, 2 span_id, 4 parent_span_id, 5 name, 6 kind, 9 attributes, 15 status (3 code). */
function span(buf: Buffer, service: string): ReceivedSpan {
  const s: ReceivedSpan = {
    traceId: "",
    spanId: "",
    parentSpanId: "",
    name: "",
    kind: 0,
    attributes: {},
    statusCode: 0,
    service,
  };
  for (const f of fields(buf)) {
    if (f.no === 1) s.traceId = bytesOf(f).toString("hex");
    else if (f.no === 2) s.spanId = bytesOf(f).toString("hex");
    else if (f.no === 4) s.parentSpanId = bytesOf(f).toString("hex");
    else if (f.no === 5) s.name = bytesOf(f).toString("utf8");
    else if (f.no === 6) s.kind = Number(f.value as bigint);
    else if (f.no === 9) {
      const [k, v] = keyValue(bytesOf(f));
      s.attributes[k] = v;
    } else if (f.no === 15)
      for (const g of fields(bytesOf(f))) if (g.no === 3) s.statusCode = Number(g.value as bigint);
  }
  return s;
}

/** ExportTraceServiceRequest: 1 ResourceSpans (1 Resource (1 attributes), 2 ScopeSpans (2 spans)). */
export function decodeProtobuf(body: Buffer): ReceivedSpan[] {
  const out: ReceivedSpan[] = [];
  for (const rs of fields(body)) {
    if (rs.no !== 1) continue;
    let service = "";
    const scopes: Buffer[] = [];
    for (const f of fields(bytesOf(rs))) {
      if (f.no === 1)
        for (const a of fields(bytesOf(f))) {
          const [k, v] = a.no === 1 ? keyValue(bytesOf(a)) : ["", ""];
          if (k === "service.name") service = String(v);
        }
      if (f.no === 2) scopes.push(bytesOf(f));
    }
    for (const scope of scopes) for (const f of fields(scope)) if (f.no === 2) out.push(span(bytesOf(f), service));
  }
  return out;
}

// --- JSON encoding (OTLP/HTTP JSON: ids as hex strings, enums as integers) ----------------------------

interface JsonValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string | number;
  doubleValue?: number;
}

export function decodeJson(text: string): ReceivedSpan[] {
  const doc = JSON.parse(text) as {
    resourceSpans?: {
      resource?: { attributes?: { key: string; value: JsonValue }[] };
      scopeSpans?: {
        spans?: {
          traceId: string;
          spanId: string;
          parentSpanId?: string;
          name: string;
          kind?: number;
          attributes?: { key: string; value: JsonValue }[];
          status?: { code?: number };
        }[];
      }[];
    }[];
  };
  const value = (v: JsonValue) =>
    v.stringValue ?? v.boolValue ?? (v.intValue !== undefined ? Number(v.intValue) : (v.doubleValue ?? ""));
  const out: ReceivedSpan[] = [];
  for (const rs of doc.resourceSpans ?? []) {
    const service = String(
      value(rs.resource?.attributes?.find((a) => a.key === "service.name")?.value ?? { stringValue: "" }),
    );
    for (const ss of rs.scopeSpans ?? [])
      for (const s of ss.spans ?? [])
        out.push({
          traceId: s.traceId,
          spanId: s.spanId,
          parentSpanId: s.parentSpanId ?? "",
          name: s.name,
          kind: s.kind ?? 0,
          attributes: Object.fromEntries((s.attributes ?? []).map((a) => [a.key, value(a.value)])),
          statusCode: s.status?.code ?? 0,
          service,
        });
  }
  return out;
}
