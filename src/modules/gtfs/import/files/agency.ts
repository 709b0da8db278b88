// agency.txt → agency: who runs the service. The first agency's time zone is the feed's (all times are
// read in it); its name and URL stand for the publisher when feed_info.txt does not say.
import { copyLine } from "../copy-text";
import { column as c, columnIndex, type FileSpec, type Value } from "../read/columns";
import { ID, rejectRow, type TextFeedFile } from "./feed-file";

const spec = {
  file: "agency.txt",
  required: true,
  columns: [
    c("agency_id", "id"),
    c("agency_name", "text", { required: true }),
    c("agency_url", "text", { required: true }),
    c("agency_timezone", "timezone", { required: true }),
    c("agency_lang", "text"),
    c("agency_phone", "text"),
    c("agency_fare_url", "text"),
    c("agency_email", "text"),
  ],
} as const satisfies FileSpec;

export const agency: TextFeedFile = {
  name: "agency",
  spec,
  dependsOn: [],
  copy: "text",
  table: {
    name: "agency",
    copyColumns: spec.columns.map((col) => col.name),
    create: (s) => [
      `create table ${s}.agency (agency_id ${ID}, agency_name text not null, agency_url text not null,
      agency_timezone text not null, agency_lang text, agency_phone text, agency_fare_url text, agency_email text)`,
    ],
  },
  rows({ state, issues }) {
    const c = columnIndex(spec);
    const convert = (row: Value[], line: number) => {
      state.agencyCount++;
      const id = (row[c.agency_id] as string | null) ?? "";
      if (state.agencies.has(id))
        return rejectRow(issues, {
          code: "duplicate_id",
          file: spec.file,
          line,
          field: "agency_id",
          value: id,
          message: "duplicate agency_id",
        });
      state.agencies.add(id);
      // Served as it is (its routes need their agency_id all the same, routes.ts), but said once: the
      // moment a second agency joins one without an id, or one without an id joins others.
      if (id === "") state.agencyWithoutId = line;
      const kept = state.agencies.size; // rows refused above do not count
      if (state.agencyWithoutId !== undefined && (kept === 2 || (id === "" && kept > 2)))
        issues.warn({
          code: "agency_id_missing",
          file: spec.file,
          line: state.agencyWithoutId,
          field: "agency_id",
          value: "",
          message: "agency.txt lists several agencies, and this one has no agency_id (GTFS requires one for each)",
        });
      const tz = row[c.agency_timezone] as string;
      const meta = state.meta;
      if (meta.timezone === null) {
        meta.timezone = tz;
        meta.publisherName ??= row[c.agency_name] as string;
        meta.publisherUrl ??= row[c.agency_url] as string;
      } else if (tz !== meta.timezone)
        issues.warn({
          code: "agency_timezones_differ",
          file: spec.file,
          line,
          field: "agency_timezone",
          value: tz,
          message: `agencies have different time zones; times use the first one (${meta.timezone})`,
        });
      return copyLine(row);
    };
    return { convert };
  },
};
