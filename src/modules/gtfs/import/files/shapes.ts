// shapes.txt → shapes: the paths vehicles travel, as sequences of points. Trips name theirs; an
// unknown shape is a warning, not an error (the feed is served without it).
import { copyLine } from "../copy-text";
import { column as c, columnIndex, type FileSpec, type Value } from "../read/columns";
import { ID, type TextFeedFile } from "./feed-file";

const spec = {
  file: "shapes.txt",
  required: false,
  columns: [
    c("shape_id", "id", { required: true }),
    c("shape_pt_lat", "lat", { required: true }),
    c("shape_pt_lon", "lon", { required: true }),
    c("shape_pt_sequence", "int", { required: true, min: 0 }),
    c("shape_dist_traveled", "float"),
  ],
} as const satisfies FileSpec;

export const shapes: TextFeedFile = {
  name: "shapes",
  spec,
  dependsOn: [],
  copy: "text",
  table: {
    name: "shapes",
    copyColumns: spec.columns.map((col) => col.name),
    create: (s) => [
      `create table ${s}.shapes (shape_id ${ID} not null, shape_pt_lat double precision not null,
      shape_pt_lon double precision not null, shape_pt_sequence integer not null, shape_dist_traveled double precision)`,
    ],
    indexes: (s) => [`create index shapes_pk on ${s}.shapes (shape_id, shape_pt_sequence)`],
  },
  rows({ state }) {
    const c = columnIndex(spec);
    const convert = (row: Value[]) => {
      state.shapes.add(row[c.shape_id] as string);
      return copyLine(row);
    };
    return { convert };
  },
};
