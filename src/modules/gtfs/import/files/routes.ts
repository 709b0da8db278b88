// routes.txt → routes: the lines passengers know by name. A route names its agency, which may be left
// out when the feed has one agency (it is filled in).
import { copyLine } from "../copy-text";
import { column as c, columnIndex, type FileSpec, type Value } from "../read/columns";
import { ID, rejectRow, type TextFeedFile } from "./feed-file";

const spec = {
  file: "routes.txt",
  required: true,
  columns: [
    c("route_id", "id", { required: true }),
    c("agency_id", "id"),
    c("route_short_name", "text"),
    c("route_long_name", "text"),
    c("route_desc", "text"),
    c("route_type", "int", { required: true, min: 0 }),
    c("route_url", "text"),
    c("route_color", "color"),
    c("route_text_color", "color"),
    c("route_sort_order", "int", { min: 0 }),
  ],
} as const satisfies FileSpec;

export const routes: TextFeedFile = {
  name: "routes",
  spec,
  dependsOn: ["agency"],
  copy: "text",
  table: {
    name: "routes",
    copyColumns: spec.columns.map((col) => col.name),
    create: (s) => [
      `create table ${s}.routes (route_id ${ID} not null, agency_id ${ID}, route_short_name text, route_long_name text,
      route_desc text, route_type integer not null, route_url text, route_color text, route_text_color text,
      route_sort_order integer)`,
    ],
    indexes: (s) => [
      `create unique index routes_pk on ${s}.routes (route_id)`,
      `create index routes_agency on ${s}.routes (agency_id)`,
    ],
    analyze: true,
  },
  rows({ state, issues }) {
    const c = columnIndex(spec);
    const file = spec.file;
    const convert = (row: Value[], line: number) => {
      const id = row[c.route_id] as string;
      if (state.routes.has(id))
        return rejectRow(issues, {
          code: "duplicate_id",
          file,
          line,
          field: "route_id",
          value: id,
          message: "duplicate route_id",
        });
      state.routes.add(id);
      const agency = row[c.agency_id] as string | null;
      if (agency === null) {
        if (state.agencyCount > 1)
          return rejectRow(issues, {
            code: "conditionally_required",
            file,
            line,
            field: "agency_id",
            message: "required when the feed has several agencies",
          });
        row[c.agency_id] = [...state.agencies][0] || null;
      } else if (!state.agencies.has(agency) && !(state.agencyCount === 1 && state.agencies.has("")))
        return rejectRow(issues, {
          code: "unknown_reference",
          file,
          line,
          field: "agency_id",
          value: agency,
          message: "unknown agency_id (not in agency.txt)",
        });
      return copyLine(row);
    };
    return { convert };
  },
};
