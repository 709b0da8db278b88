// Throwaway PostgreSQL and Redis servers for tests, started from the binaries on this machine.
// Works the same under `bun test` and `vitest run` (only node: APIs).
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Resolves once a TCP connect to the port succeeds (the server accepts), or rejects after `timeoutMs`. */
export async function waitForPort(port: number, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const sock = connect({ port, host: "127.0.0.1" });
      sock.once("connect", () => {
        sock.destroy();
        resolve(true);
      });
      sock.once("error", () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline)
      throw new Error(`nothing accepted connections on 127.0.0.1:${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function which(bin: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(":")) {
    if (dir && existsSync(join(dir, bin))) return join(dir, bin);
  }
  return undefined;
}

/** PostgreSQL's server binaries live outside PATH on Debian (/usr/lib/postgresql/<major>/bin). */
export function postgresBinDir(): string {
  const onPath = which("initdb");
  if (onPath) return onPath.slice(0, -"/initdb".length);
  const root = "/usr/lib/postgresql";
  if (existsSync(root)) {
    const majors = readdirSync(root)
      .filter((d) => existsSync(join(root, d, "bin", "initdb")))
      .sort((a, b) => Number(b) - Number(a));
    if (majors[0]) return join(root, majors[0], "bin");
  }
  throw new Error(
    "PostgreSQL server binaries not found (initdb). Install them with `apt-get install -y postgresql` " +
      "or set TEST_DATABASE_URL to an existing PostgreSQL 15 server.",
  );
}

function redisBin(): string {
  const bin = which("redis-server");
  if (!bin)
    throw new Error(
      "redis-server not found. Install it with `apt-get install -y redis-server` or set TEST_REDIS_URL to an existing Redis 7 server.",
    );
  return bin;
}

/** initdb and postgres refuse to run as root: drop to the `postgres` user when we are root. */
function asPostgresUser(cmd: string, args: string[]): [string, string[]] {
  if (process.getuid?.() !== 0) return [cmd, args];
  return ["setpriv", ["--reuid=postgres", "--regid=postgres", "--init-groups", cmd, ...args]];
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

export interface ServerProcess {
  readonly url: string;
  readonly port: number;
  /** Stops the server (data kept) and resolves when the process has exited. */
  stop(): Promise<void>;
  /** Starts it again on the same port and data. */
  start(): Promise<void>;
  /** Stops and deletes everything. */
  destroy(): Promise<void>;
  /**
   * Freezes the running server (SIGSTOP): connections stay open and new ones are accepted, nothing is
   * answered. (PostgreSQL: the postmaster, so new connections hang; open sessions still answer.)
   */
  pause(): void;
  /** Lets a paused server run on (SIGCONT). */
  resume(): void;
}

/**
 * Starts `spawnOn(port)` on a free port, and again on another one when the port was taken between
 * freePort() closing it and the server binding it (PostgreSQL's and Redis's port settings cannot be 0,
 * so they cannot pick one themselves). `ready()` must talk to this very child (through its private
 * Unix socket), never just to whatever answers on the port; a server that cannot bind its TCP port
 * exits, which is how a conflict shows.
 */
async function startOnFreePort(
  what: string,
  spawnOn: (port: number) => ChildProcess,
  ready: (port: number, child: ChildProcess) => Promise<void>,
  attempts = 5,
): Promise<{ port: number; child: ChildProcess }> {
  let last = "";
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const port = await freePort();
    const child = spawnOn(port);
    try {
      await ready(port, child);
      return { port, child };
    } catch (err) {
      last = (err as Error).message;
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGKILL");
        await exited(child);
        throw err; // running but never ready: not a port conflict
      }
    }
  }
  throw new Error(`${what} did not start on any of ${attempts} free ports: ${last}`);
}

/** Polls `check` while `child` runs; rejects as soon as it exits, or after `timeoutMs`. */
async function whileRunning(
  child: ChildProcess,
  what: string,
  check: () => Promise<void>,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`${what} exited (${child.exitCode ?? child.signalCode}) before it was ready`);
    try {
      await check();
      return;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`${what} not ready within ${timeoutMs} ms: ${(last as Error)?.message}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function startPostgres(): Promise<ServerProcess> {
  const bin = postgresBinDir();
  const dir = mkdtempSync(join(tmpdir(), "tapi-pg-"));
  const dataDir = join(dir, "data");
  if (process.getuid?.() === 0) chownSync(dir, uidOf("postgres"), gidOf("postgres"));
  const [initCmd, initArgs] = asPostgresUser(join(bin, "initdb"), [
    "-D",
    dataDir,
    "-U",
    "postgres",
    "--auth=trust",
    "--encoding=UTF8",
    "--locale=C.UTF-8",
    "--no-sync",
  ]);
  execFileSync(initCmd, initArgs, { stdio: "pipe" });
  const spawnOn = (port: number) => {
    const [cmd, args] = asPostgresUser(join(bin, "postgres"), [
      "-D",
      dataDir,
      "-p",
      String(port),
      "-k",
      dir,
      "-c",
      "listen_addresses=127.0.0.1",
      "-c",
      "fsync=off",
      "-c",
      "synchronous_commit=off",
      "-c",
      "full_page_writes=off",
      "-c",
      "max_connections=200",
    ]);
    return spawn(cmd, args, { stdio: "ignore" });
  };
  // The postmaster binds its TCP port before it creates the Unix socket in our private `dir`, and
  // exits when it cannot bind: a query through that socket proves the TCP port is this server's.
  const ready = (port: number, child: ChildProcess) =>
    whileRunning(child, `postgres on port ${port}`, () => queryOverSocket(dir, port));
  return serverOnFreePort({
    name: "postgres",
    url: (port) => `postgres://postgres@127.0.0.1:${port}/postgres`,
    dir,
    spawnOn,
    ready,
    halt(c) {
      c.kill("SIGCONT"); // in case it was paused
      c.kill("SIGINT"); // fast shutdown: aborts open transactions, closes connections
    },
  });
}

/** One query through the server's Unix socket in `socketDir` (it answers once recovery has ended). */
async function queryOverSocket(socketDir: string, port: number): Promise<void> {
  const { default: pg } = await import("pg");
  const client = new pg.Client({ host: socketDir, port, user: "postgres", database: "postgres" });
  try {
    await client.connect();
    await client.query("select 1");
  } finally {
    await client.end().catch(() => {});
  }
}

export async function startRedis(): Promise<ServerProcess> {
  const bin = redisBin();
  const dir = mkdtempSync(join(tmpdir(), "tapi-redis-"));
  const socket = join(dir, "redis.sock");
  const spawnOn = (port: number) =>
    spawn(
      bin,
      [
        "--port",
        String(port),
        "--bind",
        "127.0.0.1",
        "--unixsocket",
        socket,
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        dir,
      ],
      { stdio: "ignore" },
    );
  // Redis listens on TCP before it creates its Unix socket, and exits when it cannot bind: a PONG
  // through our private socket proves the TCP port is this server's.
  const ready = (port: number, child: ChildProcess) =>
    whileRunning(child, `redis on port ${port}`, () => pingOverSocket(socket));
  return serverOnFreePort({
    name: "redis",
    url: (port) => `redis://127.0.0.1:${port}`,
    dir,
    spawnOn,
    ready,
    halt: (c) => c.kill("SIGKILL"), // like a crash: the app must cope with a vanished Redis
  });
}

/**
 * A server started on a free port (startOnFreePort), then stopped, restarted and paused as a
 * ServerProcess. A restart keeps its port (the URL is already handed out): a conflict then is an error.
 */
async function serverOnFreePort(options: {
  name: string;
  url: (port: number) => string;
  /** Removed by destroy(). */
  dir: string;
  spawnOn: (port: number) => ChildProcess;
  ready: (port: number, child: ChildProcess) => Promise<void>;
  /** Signals the process to end; stop() then waits for it to exit. */
  halt: (child: ChildProcess) => void;
}): Promise<ServerProcess> {
  const { spawnOn, ready } = options;
  const first = await startOnFreePort(options.name, spawnOn, ready);
  const port = first.port;
  let child: ChildProcess | undefined = first.child;
  const server: ServerProcess = {
    url: options.url(port),
    port,
    async start() {
      if (child) return;
      child = spawnOn(port);
      await ready(port, child);
    },
    async stop() {
      if (!child) return;
      const c = child;
      child = undefined;
      options.halt(c);
      await exited(c);
    },
    async destroy() {
      await server.stop();
      rmSync(options.dir, { recursive: true, force: true });
    },
    pause: () => void child?.kill("SIGSTOP"),
    resume: () => void child?.kill("SIGCONT"),
  };
  return server;
}

export interface PgBouncerOptions {
  /** The PostgreSQL server behind it. */
  postgresPort: number;
  poolMode?: "session" | "transaction";
  /** Server connections per database/user pair. */
  poolSize?: number;
  /** Startup parameters to accept and drop (as the Kubernetes component sets them). */
  ignoreStartupParameters?: string[];
}

/** PgBouncer (Debian's package) in front of a test PostgreSQL, trusting every local client. */
export async function startPgBouncer(options: PgBouncerOptions): Promise<ServerProcess> {
  const bin = ["/usr/sbin/pgbouncer", "/usr/bin/pgbouncer"].find((b) => existsSync(b)) ?? which("pgbouncer");
  if (!bin)
    throw new Error(
      "pgbouncer not found. Install it with `apt-get install -y pgbouncer` (scripts/ci/install-system-deps.sh).",
    );
  const dir = mkdtempSync(join(tmpdir(), "tapi-pgbouncer-"));
  if (process.getuid?.() === 0) chownSync(dir, uidOf("postgres"), gidOf("postgres"));
  const port = await freePort();
  const ini = join(dir, "pgbouncer.ini");
  writeFileSync(join(dir, "userlist.txt"), '"postgres" ""\n');
  writeFileSync(
    ini,
    [
      "[databases]",
      `* = host=127.0.0.1 port=${options.postgresPort}`,
      "[pgbouncer]",
      "listen_addr = 127.0.0.1",
      `listen_port = ${port}`,
      "unix_socket_dir =",
      "auth_type = trust",
      `auth_file = ${join(dir, "userlist.txt")}`,
      `pool_mode = ${options.poolMode ?? "transaction"}`,
      `default_pool_size = ${options.poolSize ?? 5}`,
      "max_client_conn = 500",
      `ignore_startup_parameters = ${(options.ignoreStartupParameters ?? ["extra_float_digits"]).join(",")}`,
      `logfile = ${join(dir, "pgbouncer.log")}`,
      "",
    ].join("\n"),
  );
  if (process.getuid?.() === 0)
    for (const f of ["pgbouncer.ini", "userlist.txt"]) chownSync(join(dir, f), uidOf("postgres"), gidOf("postgres"));
  let child: ChildProcess | undefined;
  const server: ServerProcess = {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    async start() {
      // PgBouncer refuses to run as root, like PostgreSQL.
      const [cmd, args] = asPostgresUser(bin, [ini]);
      child = spawn(cmd, args, { stdio: "ignore" });
      await waitForPort(port);
    },
    async stop() {
      if (!child) return;
      const c = child;
      child = undefined;
      c.kill("SIGINT");
      await exited(c);
    },
    async destroy() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
    pause: () => void child?.kill("SIGSTOP"),
    resume: () => void child?.kill("SIGCONT"),
  };
  await server.start();
  return server;
}

/** PING over a Redis Unix socket; resolves on +PONG. */
function pingOverSocket(path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const sock = connect({ path });
    let reply = "";
    sock.setTimeout(2000, () => sock.destroy(new Error("no reply to PING")));
    sock.once("connect", () => sock.write("PING\r\n"));
    sock.on("data", (chunk) => {
      reply += chunk;
      if (!reply.includes("\r\n")) return;
      sock.destroy();
      if (reply.startsWith("+PONG")) resolve();
      else reject(new Error(`PING answered ${JSON.stringify(reply.trim())}`));
    });
    sock.once("error", reject);
    sock.once("close", () => reject(new Error("connection closed before PONG")));
  });
}

function uidOf(user: string): number {
  return Number(execFileSync("id", ["-u", user]).toString().trim());
}
function gidOf(user: string): number {
  return Number(execFileSync("id", ["-g", user]).toString().trim());
}
