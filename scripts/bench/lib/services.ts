// The PostgreSQL and Redis a benchmark's services run against: throwaway servers (test/support), started
// together and destroyed after the benchmark whatever happened, so a failed run leaves no server behind.
import { type ServerProcess, startPostgres, startRedis } from "../../../test/support/processes";

export async function withPostgresAndRedis<T>(
  run: (postgres: ServerProcess, redis: ServerProcess) => Promise<T>,
): Promise<T> {
  const started = await Promise.allSettled([startPostgres(), startRedis()]);
  try {
    const [postgres, redis] = started.map((s) => {
      if (s.status === "rejected") throw s.reason;
      return s.value;
    });
    return await run(postgres!, redis!);
  } finally {
    await Promise.all(started.map((s) => (s.status === "fulfilled" ? s.value.destroy() : undefined)));
  }
}
