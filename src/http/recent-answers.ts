// The fast path for a URL asked again: the answer prepared for the same GET URL is served before
// routing, query parsing, validation and the handler, synchronously (Bun then writes it at once). A URL
// that was answered once gets the same answer while nothing it depends on has changed: the stamp (the
// active feed version, as the server knows it without asking the database) is the same, the answer's
// own deadline has not passed (a board of "now" holds within its second), an answer merged with realtime
// was merged with the snapshots current now (a new one replaces it at once), and a request header the
// answer depends on (Accept, when negotiated) is the same. Everything else takes the full path, which
// refills this. Bounded by entries and by the bytes of the answers it holds (it keeps them alive even
// after the answer cache behind it has let them go): a plain Map emptied when full rather than an LRU,
// whose recency bookkeeping cost a measurable share of a hit (a URL dropped here is still in the answer
// cache behind it); a URL longer than a few hundred characters is never kept.
import type { Answer } from "./answer";
import { requestInfo } from "./request-info";

/** How many URLs it remembers at most. */
export const RECENT_ANSWERS_MAX_ENTRIES = 10_000;
/** As much as the answer cache keeps in process (answer-cache.ts): mostly the same answers. */
export const RECENT_ANSWERS_MAX_BYTES = 32 * 1024 * 1024;
const MAX_URL_LENGTH = 512;

interface Entry {
  answer: Answer;
  /** The route template, for the access log. */
  route: string;
  stamp: string;
  /** Compared with the live stamp (realtime merged in) rather than the feed version's. */
  live?: boolean;
  /** Epoch ms after which the answer may differ (e.g. `at` defaulted to now). */
  until: number;
  /** The Accept header it was negotiated for, when the answer depends on it. */
  accept?: string | null;
}

export interface RecentAnswers {
  /** The entry for a GET of a URL answered before, while it holds; undefined otherwise. */
  match(request: Request, url?: string): Entry | undefined;
  /** The answer of a matched entry, for this request (304, encoding), its route recorded for the log. */
  serve(request: Request, entry: Entry): Response;
  /** match + serve. */
  lookup(request: Request): Response | undefined;
  remember(request: Request, entry: Entry): void;
  /** Bytes of the answers held (Answer.size), for the bound and its test. */
  readonly bytes: number;
}

/**
 * `stamp()` says what answers currently depend on; undefined when it cannot say without a query.
 * `liveStamp()` says the same for answers with realtime merged in (the current snapshots' view).
 */
export function createRecentAnswers(
  stamp: () => string | undefined,
  liveStamp: () => string | undefined = () => undefined,
): RecentAnswers {
  const entries = new Map<string, Entry>();
  let bytes = 0;
  const drop = (url: string, entry: Entry) => {
    entries.delete(url);
    bytes -= entry.answer.size;
  };
  // Each read of request.url makes a new string: callers that have it pass it.
  const match = (request: Request, url = request.url): Entry | undefined => {
    if (request.method !== "GET") return undefined;
    const entry = entries.get(url);
    if (entry === undefined) return undefined;
    if (entry.stamp !== (entry.live ? liveStamp() : stamp()) || Date.now() >= entry.until) {
      drop(url, entry);
      return undefined;
    }
    if (entry.accept !== undefined && request.headers.get("accept") !== entry.accept) return undefined;
    return entry;
  };
  const serve = (request: Request, entry: Entry): Response => {
    const info = requestInfo(request);
    if (info) info.route = entry.route;
    return entry.answer.serve(request);
  };
  return {
    match,
    serve,
    lookup(request) {
      const entry = match(request);
      return entry === undefined ? undefined : serve(request, entry);
    },
    get bytes() {
      return bytes;
    },
    remember(request, entry) {
      const url = request.url;
      if (request.method !== "GET" || url.length > MAX_URL_LENGTH) return;
      const size = entry.answer.size;
      if (size > RECENT_ANSWERS_MAX_BYTES / 16) return; // one answer never takes a large share
      const previous = entries.get(url);
      if (previous !== undefined) drop(url, previous);
      if (entries.size >= RECENT_ANSWERS_MAX_ENTRIES || bytes + size > RECENT_ANSWERS_MAX_BYTES) {
        entries.clear();
        bytes = 0;
      }
      entries.set(url, entry);
      bytes += size;
    },
  };
}
