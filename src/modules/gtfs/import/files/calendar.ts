// calendar.txt → calendar: on which weekdays, between which dates, each service runs. Expanded into
// service dates after the load (derived/service-dates.ts), with calendar_dates.txt's exceptions.
import { copyLine } from "../copy-text";
import { BOOL01, column as c, columnIndex, type FileSpec, type Value } from "../read/columns";
import { ID, rejectRow, type TextFeedFile } from "./feed-file";

const spec = {
  file: "calendar.txt",
  required: false, // calendar.txt or calendar_dates.txt (at least one): files/all.ts checks
  columns: [
    c("service_id", "id", { required: true }),
    c("monday", "int", { required: true, values: BOOL01 }),
    c("tuesday", "int", { required: true, values: BOOL01 }),
    c("wednesday", "int", { required: true, values: BOOL01 }),
    c("thursday", "int", { required: true, values: BOOL01 }),
    c("friday", "int", { required: true, values: BOOL01 }),
    c("saturday", "int", { required: true, values: BOOL01 }),
    c("sunday", "int", { required: true, values: BOOL01 }),
    c("start_date", "date", { required: true }),
    c("end_date", "date", { required: true }),
  ],
} as const satisfies FileSpec;

export const calendar: TextFeedFile = {
  name: "calendar",
  spec,
  dependsOn: [],
  copy: "text",
  table: {
    name: "calendar",
    copyColumns: spec.columns.map((col) => col.name),
    create: (s) => [
      `create table ${s}.calendar (service_id ${ID} not null, monday smallint not null, tuesday smallint not null,
      wednesday smallint not null, thursday smallint not null, friday smallint not null, saturday smallint not null,
      sunday smallint not null, start_date date not null, end_date date not null)`,
    ],
  },
  rows({ state, issues }) {
    const c = columnIndex(spec);
    const days = [c.monday, c.tuesday, c.wednesday, c.thursday, c.friday, c.saturday, c.sunday];
    const convert = (row: Value[], line: number) => {
      const id = row[c.service_id] as string;
      const start = row[c.start_date] as string;
      const end = row[c.end_date] as string;
      if (end < start)
        return rejectRow(issues, {
          code: "invalid_range",
          file: spec.file,
          line,
          field: "end_date",
          value: end,
          message: "end_date is before start_date",
        });
      state.services.add(id);
      state.calendar.push({ serviceId: id, days: days.map((d) => row[d] === 1), startDate: start, endDate: end, line });
      return copyLine(row);
    };
    return { convert };
  },
};
