// Table types for kysely. Feature modules add their tables here as their migrations create them.
import type { ColumnType } from "kysely";

export interface AppMetadataTable {
  key: string;
  value: string;
  updated_at: ColumnType<Date, string | undefined, string>;
}

export interface Tables {
  app_metadata: AppMetadataTable;
}
