// Shared test services. `npm test` starts one PostgreSQL and one Redis for the whole run and passes
// TEST_DATABASE_URL / TEST_REDIS_URL; a test file run on its own starts private ones instead.
import { randomBytes } from "node:crypto";
import pg from "pg";
import { type ServerProcess, startPostgres, startRedis } from "./processes";

export interface TestDatabase {
  /** URL of a fresh, empty database that only this caller uses. */
  url: string;
  drop(): Promise<void>;
}

let privatePg: Promise<ServerProcess> | undefined;
let privateRedis: Promise<ServerProcess> | undefined;

async function postgresServerUrl(): Promise<string> {
  if (process.env.TEST_DATABASE_URL) return process.env.TEST_DATABASE_URL;
  privatePg ??= startPostgres();
  return (await privatePg).url;
}

/** Creates a uniquely named database on the test server (parallel test files never share one). */
export async function createTestDatabase(prefix = "t"): Promise<TestDatabase> {
  const serverUrl = await postgresServerUrl();
  const name = `${prefix}_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`create database "${name}"`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: serverUrl });
      await c.connect();
      await c.query(`drop database if exists "${name}" with (force)`);
      await c.end();
    },
  };
}

/** URL of the shared test Redis with a db index; callers also namespace their keys. */
export async function testRedisUrl(): Promise<string> {
  if (process.env.TEST_REDIS_URL) return process.env.TEST_REDIS_URL;
  privateRedis ??= startRedis();
  return (await privateRedis).url;
}

/** Stops servers this module started itself (call from afterAll in files that used them). */
export async function stopPrivateServers(): Promise<void> {
  const servers = [privatePg, privateRedis];
  privatePg = privateRedis = undefined;
  for (const s of servers) if (s) await (await s).destroy();
}
