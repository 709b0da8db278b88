// Loaded before the test files by both runners (bunfig.toml preload, vitest setupFiles): stops the
// PostgreSQL and Redis servers a test file started for itself when run without TEST_DATABASE_URL /
// TEST_REDIS_URL, so running one file on its own leaves no server behind. (`npm test` passes shared
// servers, so nothing is started per file there.)
import { afterAll } from "vitest";
import { stopPrivateServers } from "./services";

afterAll(stopPrivateServers);
