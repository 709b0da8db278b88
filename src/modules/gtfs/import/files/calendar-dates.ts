// calendar_dates.txt → calendar_dates: dates a service runs on (exception_type 1) or not (2) beside
// its calendar.txt pattern; some feeds list every date here and have no calendar.txt.
import { copyLine } from "../copy-text";
import { column as c, columnIndex, type FileSpec, type Value } from "../read/columns";
import { ID, type TextFeedFile } from "./feed-file";

const spec = {
  file: "calendar_dates.txt",
  required: false,
  columns: [
    c("service_id", "id", { required: true }),
    c("date", "date", { required: true }),
    c("exception_type", "int", { required: true, values: [1, 2] }),
  ],
} as const satisfies FileSpec;

export const calendarDates: TextFeedFile = {
  name: "calendar_dates",
  spec,
  dependsOn: [],
  copy: "text",
  table: {
    name: "calendar_dates",
    copyColumns: spec.columns.map((col) => col.name),
    create: (s) => [
      `create table ${s}.calendar_dates (service_id ${ID} not null, date date not null, exception_type smallint not null)`,
    ],
    indexes: (s) => [`create index calendar_dates_service on ${s}.calendar_dates (service_id, date)`],
  },
  rows({ state }) {
    const c = columnIndex(spec);
    const convert = (row: Value[]) => {
      const id = row[c.service_id] as string;
      state.services.add(id);
      state.exceptions.push({
        serviceId: id,
        date: row[c.date] as string,
        exceptionType: row[c.exception_type] as 1 | 2,
      });
      return copyLine(row);
    };
    return { convert };
  },
};
