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
  const port = await freePort();
  let child: ChildProcess | undefined;
  const server: ServerProcess = {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    async start() {
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
      child = spawn(cmd, args, { stdio: "ignore" });
      await waitForPort(port);
      await waitForPostgresQueries(port);
    },
    async stop() {
      if (!child) return;
      const c = child;
      child = undefined;
      c.kill("SIGINT"); // fast shutdown: aborts open transactions, closes connections
      await exited(c);
    },
    async destroy() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await server.start();
  return server;
}

/** The port accepts before recovery ends; poll until a query actually runs. */
async function waitForPostgresQueries(port: number, timeoutMs = 20_000): Promise<void> {
  const { default: pg } = await import("pg");
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const client = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:${port}/postgres` });
    try {
      await client.connect();
      await client.query("select 1");
      await client.end();
      return;
    } catch (err) {
      await client.end().catch(() => {});
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

export async function startRedis(): Promise<ServerProcess> {
  const bin = redisBin();
  const dir = mkdtempSync(join(tmpdir(), "tapi-redis-"));
  const port = await freePort();
  let child: ChildProcess | undefined;
  const server: ServerProcess = {
    url: `redis://127.0.0.1:${port}`,
    port,
    async start() {
      child = spawn(
        bin,
        ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir],
        { stdio: "ignore" },
      );
      await waitForPort(port);
    },
    async stop() {
      if (!child) return;
      const c = child;
      child = undefined;
      c.kill("SIGKILL"); // like a crash: the app must cope with a vanished Redis
      await exited(c);
    },
    async destroy() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await server.start();
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
  };
  await server.start();
  return server;
}

function uidOf(user: string): number {
  return Number(execFileSync("id", ["-u", user]).toString().trim());
}
function gidOf(user: string): number {
  return Number(execFileSync("id", ["-g", user]).toString().trim());
}
