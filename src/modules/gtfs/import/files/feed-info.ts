// feed_info.txt → feed_info: who publishes the feed, its version and the dates it covers, for the
// catalogue (GET /v1/feeds).
import { copyLine } from "../copy-text";
import { column as c, columnIndex, type FileSpec, type Value } from "../read/columns";
import type { TextFeedFile } from "./feed-file";

const spec = {
  file: "feed_info.txt",
  required: false,
  columns: [
    c("feed_publisher_name", "text", { required: true }),
    c("feed_publisher_url", "text", { required: true }),
    c("feed_lang", "text", { required: true }),
    c("default_lang", "text"),
    c("feed_start_date", "date"),
    c("feed_end_date", "date"),
    c("feed_version", "text"),
    c("feed_contact_email", "text"),
    c("feed_contact_url", "text"),
  ],
} as const satisfies FileSpec;

export const feedInfo: TextFeedFile = {
  name: "feed_info",
  spec,
  dependsOn: [],
  copy: "text",
  table: {
    name: "feed_info",
    copyColumns: spec.columns.map((col) => col.name),
    create: (s) => [
      `create table ${s}.feed_info (feed_publisher_name text, feed_publisher_url text, feed_lang text, default_lang text,
      feed_start_date date, feed_end_date date, feed_version text, feed_contact_email text, feed_contact_url text)`,
    ],
  },
  rows({ state }) {
    const c = columnIndex(spec);
    const convert = (row: Value[]) => {
      const meta = state.meta;
      meta.publisherName = row[c.feed_publisher_name] as string;
      meta.publisherUrl = row[c.feed_publisher_url] as string;
      meta.version = row[c.feed_version] as string | null;
      meta.lang = row[c.feed_lang] as string | null;
      meta.startDate = row[c.feed_start_date] as string | null;
      meta.endDate = row[c.feed_end_date] as string | null;
      return copyLine(row);
    };
    return { convert };
  },
};
