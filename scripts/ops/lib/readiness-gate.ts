// The external readiness gate: the deploy is good only when the service, reached the way users reach
// it, answers GET /ready with 200 N polls in a row and GET /version reports the expected version on
// each of those polls. A total deadline bounds it; one slow or failed poll resets the streak.

export interface GateOptions {
  /** Base URL of the service, e.g. https://staging-api.example.com or http://127.0.0.1:8000 */
  url: string;
  /** Compared with /version .version ("v" prefixes ignored); undefined = only /ready counts. */
  expectedVersion?: string;
  /** Consecutive good polls required. */
  consecutive: number;
  intervalMs: number;
  timeoutMs: number;
  requestTimeoutMs: number;
  log?: (line: string) => void;
}

export interface GateResult {
  ok: boolean;
  /** Why it passed or, on failure, what the last bad poll saw. */
  reason: string;
  observedVersion?: string;
  polls: number;
}

type Poll = { good: true; version: string | undefined } | { good: false; why: string; version?: string };

const normalize = (v: string) => v.trim().replace(/^v/, "");

async function getJson(url: string, timeoutMs: number): Promise<{ status: number; body: unknown } | { error: string }> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: "application/json" } });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {}
    return { status: res.status, body };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    if (e.name === "TimeoutError" || e.name === "AbortError") return { error: `no answer within ${timeoutMs} ms` };
    return { error: e.cause?.code ?? e.cause?.message ?? e.message };
  }
}

function short(body: unknown): string {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

async function pollOnce(base: string, opts: GateOptions): Promise<Poll> {
  const ready = await getJson(`${base}/ready`, opts.requestTimeoutMs);
  if ("error" in ready) return { good: false, why: `/ready: ${ready.error}` };
  if (ready.status !== 200) return { good: false, why: `/ready answered ${ready.status} ${short(ready.body)}` };
  const version = await getJson(`${base}/version`, opts.requestTimeoutMs);
  if ("error" in version) return { good: false, why: `/version: ${version.error}` };
  const reported = (version.body as { version?: unknown } | null)?.version;
  const observed = typeof reported === "string" ? reported : undefined;
  if (version.status !== 200) return { good: false, why: `/version answered ${version.status}`, version: observed };
  if (opts.expectedVersion !== undefined) {
    if (observed === undefined) return { good: false, why: `/version has no version: ${short(version.body)}` };
    if (normalize(observed) !== normalize(opts.expectedVersion)) {
      return {
        good: false,
        why: `expected version ${opts.expectedVersion}, /version reports ${observed}`,
        version: observed,
      };
    }
  }
  return { good: true, version: observed };
}

export async function readinessGate(opts: GateOptions): Promise<GateResult> {
  const log = opts.log ?? (() => {});
  const base = opts.url.replace(/\/+$/, "");
  const deadline = Date.now() + opts.timeoutMs;
  let streak = 0;
  let polls = 0;
  let lastBad = "no poll finished before the deadline";
  let observedVersion: string | undefined;
  const want = opts.expectedVersion ? ` and version ${opts.expectedVersion}` : "";
  log(
    `gate: ${base} must answer /ready 200${want} ${opts.consecutive} times in a row within ${opts.timeoutMs / 1000} s`,
  );
  for (;;) {
    const poll = await pollOnce(base, opts);
    polls++;
    if (poll.version !== undefined) observedVersion = poll.version;
    if (poll.good) {
      streak++;
      log(`gate: poll ${polls} ok (${streak}/${opts.consecutive}, version ${poll.version ?? "?"})`);
      if (streak >= opts.consecutive) {
        return {
          ok: true,
          reason: `/ready 200${want} ${streak} times in a row`,
          observedVersion,
          polls,
        };
      }
    } else {
      if (streak > 0 || poll.why !== lastBad) log(`gate: poll ${polls} failed: ${poll.why}`);
      streak = 0;
      lastBad = poll.why;
    }
    if (Date.now() + opts.intervalMs > deadline) {
      return {
        ok: false,
        reason: `not ready within ${opts.timeoutMs / 1000} s: ${
          streak > 0 ? `only ${streak} of ${opts.consecutive} good polls in a row (earlier: ${lastBad})` : lastBad
        }`,
        observedVersion,
        polls,
      };
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs));
  }
}
