// One process at a time per embedded (PGlite) data directory. PGlite is PostgreSQL in single-user
// mode: two processes on one directory each keep their own buffers and transaction counter, write over
// each other's pages and control file, and can leave rows stamped by transactions the directory never
// started; the next writer that meets one waits for that transaction forever (see embedded-damage.ts).
//
// The exclusion is an OS lock on a file in the directory (flock, supplied by the entrypoint because
// Node has no API for it). The kernel drops it when its holder exits in any way, even SIGKILL, so a dead
// owner never blocks the next start, and nothing has to guess staleness: a heartbeat or an age limit
// would hand a live owner's directory to a second process while a long WASM call blocks the owner's
// event loop. The file also records who holds it, for the refusal message. Without an OS lock (an
// unsupported platform) the record alone is checked: its process alive on this host means busy.
import {
  closeSync,
  constants,
  fstatSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readFileSync,
  statSync,
  writeSync,
} from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";

export const LOCK_FILE = "transportation-api.lock";

export interface OwnerRecord {
  pid: number;
  command: string;
  host: string;
  since: string;
  /** The directory was found free of damage (embedded-damage.ts) since this program started locking it. */
  checked: boolean;
}

/** Takes an exclusive, non-blocking OS lock on an open file: true when acquired, false when held. */
export type TryLock = (fd: number) => boolean;

export class DataDirInUseError extends Error {
  override name = "DataDirInUseError";
  constructor(
    readonly dir: string,
    readonly owner: OwnerRecord | undefined,
  ) {
    const who = owner
      ? `process ${owner.pid}${owner.host === hostname() ? "" : ` on ${owner.host}`} (\`${owner.command}\`, since ${owner.since})`
      : "another process";
    const stop = owner && owner.host === hostname() ? `stop it (kill ${owner.pid})` : "stop it";
    super(
      `the embedded database in ${dir} is in use by ${who}. It serves one process at a time: ${stop} and run ` +
        "this again, or set DATABASE_URL to a PostgreSQL server, which any number of processes can share",
    );
  }
}

export interface DataDirLock {
  readonly dir: string;
  /** The directory holds a database that no locking version has vouched for: check it before use. */
  readonly needsCheck: boolean;
  /** Drops the lock (exiting does too). */
  release(): void;
}

const lockPath = (dir: string) => join(dir, LOCK_FILE);

function readRecord(path: string): OwnerRecord | undefined {
  try {
    const value = JSON.parse(readFileSync(path, "utf8")) as Partial<OwnerRecord>;
    if (typeof value.pid !== "number") return undefined;
    return {
      pid: value.pid,
      command: String(value.command ?? "?"),
      host: String(value.host ?? "?"),
      since: String(value.since ?? "?"),
      checked: value.checked === true,
    };
  } catch {
    return undefined;
  }
}

function writeRecord(fd: number, record: OwnerRecord): void {
  const text = `${JSON.stringify(record)}\n`;
  ftruncateSync(fd, 0);
  writeSync(fd, text, 0);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

const pause = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** The owner's record; it may be a moment late when the owner has only just taken the lock. */
function ownerOf(path: string): OwnerRecord | undefined {
  for (let i = 0; i < 10; i++) {
    const record = readRecord(path);
    if (record) return record;
    pause(20);
  }
  return undefined;
}

/**
 * Locks `dir` for this process or throws DataDirInUseError at once, naming the owner. `command` is what
 * this process runs (shown to the next one that is refused).
 */
export function lockDataDir(dir: string, options: { command: string; tryLock?: TryLock }): DataDirLock {
  mkdirSync(dir, { recursive: true });
  const path = lockPath(dir);
  const previous = readRecord(path);
  // A directory that already holds a database but no record was used by a version without this lock.
  const legacy = !previous && exists(join(dir, "PG_VERSION"));
  let fd: number;
  for (;;) {
    fd = openSync(path, constants.O_RDWR | constants.O_CREAT, 0o644);
    if (options.tryLock) {
      if (!options.tryLock(fd)) {
        closeSync(fd);
        throw new DataDirInUseError(dir, ownerOf(path));
      }
      // The file may have been removed or replaced between open and lock: then the lock guards nothing.
      if (sameFile(fd, path)) break;
      closeSync(fd);
      continue;
    }
    const holder = readRecord(path);
    if (holder && holder.pid !== process.pid && holder.host === hostname() && alive(holder.pid)) {
      closeSync(fd);
      throw new DataDirInUseError(dir, holder);
    }
    break;
  }
  const record: OwnerRecord = {
    pid: process.pid,
    command: options.command,
    host: hostname(),
    since: new Date().toISOString(),
    checked: legacy ? false : (previous?.checked ?? true),
  };
  writeRecord(fd, record);
  let open = true;
  return {
    dir,
    needsCheck: !record.checked,
    release() {
      if (!open) return;
      open = false;
      closeSync(fd);
    },
  };
}

/** Records that the damage check passed, so later starts skip it (called where the database opens). */
export function markDataDirChecked(dir: string): void {
  const path = lockPath(dir);
  const record = readRecord(path);
  if (!record || record.checked) return;
  const fd = openSync(path, constants.O_RDWR);
  try {
    writeRecord(fd, { ...record, checked: true });
  } finally {
    closeSync(fd); // flock belongs to the lock's own descriptor: closing this one leaves it held
  }
}

function sameFile(fd: number, path: string): boolean {
  try {
    return fstatSync(fd).ino === statSync(path).ino;
  } catch {
    return false;
  }
}

function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}
