// Stops without times (timepoint=0) get times interpolated linearly by stop order between the
// surrounding timed stops of the same trip, so they appear on departure boards. Done in SQL, after the
// load: the rows of a trip need not be together in the file.
import type { IssueCollector } from "../issues";
import type { LoadSession } from "../load-session";

export async function interpolateTimes(session: LoadSession, schema: string, issues: IssueCollector): Promise<void> {
  const s = `"${schema}"`;
  await session.query(`
    with ordered as (
      select trip_idx, stop_sequence, departure_secs,
             row_number() over w as n,
             max(case when departure_secs is not null then stop_sequence end) over (w rows unbounded preceding) as prev_seq
      from ${s}.stop_times window w as (partition by trip_idx order by stop_sequence)
    ), known as (
      select o.trip_idx, o.stop_sequence, o.n, o.departure_secs from ordered o where o.departure_secs is not null
    ), gaps as (
      select o.trip_idx, o.stop_sequence, o.n, p.n as pn, p.departure_secs as pdep,
             (select k.n from known k where k.trip_idx = o.trip_idx and k.n > o.n order by k.n limit 1) as nn
      from ordered o join known p on p.trip_idx = o.trip_idx and p.stop_sequence = o.prev_seq
      where o.departure_secs is null
    ), filled as (
      select g.trip_idx, g.stop_sequence,
             g.pdep + round((k.departure_secs - g.pdep) * (g.n - g.pn)::numeric / (g.nn - g.pn))::int as secs
      from gaps g join known k on k.trip_idx = g.trip_idx and k.n = g.nn
    )
    update ${s}.stop_times st set arrival_secs = f.secs, departure_secs = f.secs
    from filled f where st.trip_idx = f.trip_idx and st.stop_sequence = f.stop_sequence`);
  const [left] = await session.query<{ n: string }>(
    `select count(*) as n from ${s}.stop_times where departure_secs is null`,
  );
  if (Number(left?.n) > 0)
    issues.warn({
      code: "times_not_interpolated",
      file: "stop_times.txt",
      message: `${left?.n} stop times without times could not be interpolated (no timed stop before or after)`,
    });
}
