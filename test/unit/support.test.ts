import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { createTestDatabase, stopPrivateServers } from "../support/services";

describe("test support", () => {
  afterAll(stopPrivateServers);
  it("creates an isolated database on a real PostgreSQL 15", async () => {
    const db = await createTestDatabase();
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    const { rows } = await client.query("select current_setting('server_version_num')::int as v");
    await client.end();
    await db.drop();
    expect(rows[0].v).toBeGreaterThanOrEqual(150000);
  });
});
