// In-memory upsert store: database -> entity -> key -> record, all Maps (insertion ordered).

/** One key field and its value, as in the 207 answer's `id`. */
export interface KeyValue {
  key: string;
  value: unknown;
}

/** A stored record. */
export interface StoredRecord {
  /** The record's key values, in `x-vbapi-key` order. */
  id: KeyValue[];
  /** The body last stored for this key (the record exactly as it was sent). */
  body: Record<string, unknown>;
  /** How many times this key was written (1 after the create, +1 per update). */
  writes: number;
  /** When the record was first created (ms since epoch). */
  createdAt: number;
  /** When the record was last written (ms since epoch). */
  updatedAt: number;
}

/** Read access to what the server holds, plus `clear()`. */
export interface MockStore {
  /** Records of one entity in one database, in insertion order (first creation), with their last body. */
  list(database: string, entity: string): StoredRecord[];
  /**
   * One record by its key values: either an object (`{ tolerance_Key: 310 }`) or the values in
   * `x-vbapi-key` order (`[5021, 3]`).
   */
  get(
    database: string,
    entity: string,
    key: Record<string, unknown> | readonly unknown[],
  ): StoredRecord | undefined;
  /** Number of distinct records of one entity in one database. */
  count(database: string, entity: string): number;
  /** Sum of `writes` over all records of one entity in one database. */
  totalWrites(database: string, entity: string): number;
  /** Databases that hold at least one record. */
  databases(): string[];
  /** Entities with records in one database, with their record counts. */
  summary(database: string): Record<string, number>;
  /** Entity names the server serves (from the spec). */
  entities(): string[];
  /** Forgets every record. */
  clear(): void;
}

/** Outcome of one upsert. */
export type UpsertResult = "created" | "updated";

/** Canonical map key for a list of key values. */
export function keyString(values: readonly unknown[]): string {
  if (values.length === 1) {
    const v = values[0];
    if (typeof v === "number") return `n${v}`;
    if (typeof v === "string") return `s${v}`;
  }
  return JSON.stringify(values);
}

/** The store implementation used by the server. */
export class RecordStore implements MockStore {
  private readonly data = new Map<string, Map<string, Map<string, StoredRecord>>>();

  constructor(
    private readonly keyFieldsByEntity: ReadonlyMap<string, readonly string[]>,
    private readonly now: () => number = Date.now,
  ) {}

  private table(database: string, entity: string, create: true): Map<string, StoredRecord>;
  private table(
    database: string,
    entity: string,
    create: false,
  ): Map<string, StoredRecord> | undefined;
  private table(database: string, entity: string, create: boolean) {
    let db = this.data.get(database);
    if (!db) {
      if (!create) return undefined;
      db = new Map();
      this.data.set(database, db);
    }
    let table = db.get(entity);
    if (!table) {
      if (!create) return undefined;
      table = new Map();
      db.set(entity, table);
    }
    return table;
  }

  /** Creates or updates one record. `id` must hold the key values in key-field order. */
  upsert(
    database: string,
    entity: string,
    id: KeyValue[],
    mapKey: string,
    body: Record<string, unknown>,
  ): UpsertResult {
    const table = this.table(database, entity, true);
    const existing = table.get(mapKey);
    const now = this.now();
    if (existing) {
      existing.body = body;
      existing.writes++;
      existing.updatedAt = now;
      return "updated";
    }
    table.set(mapKey, { id, body, writes: 1, createdAt: now, updatedAt: now });
    return "created";
  }

  /** Whether a key exists (used to decide 200 vs 201 without writing). */
  has(database: string, entity: string, mapKey: string): boolean {
    return this.table(database, entity, false)?.has(mapKey) ?? false;
  }

  list(database: string, entity: string): StoredRecord[] {
    const table = this.table(database, entity, false);
    return table ? [...table.values()] : [];
  }

  get(
    database: string,
    entity: string,
    key: Record<string, unknown> | readonly unknown[],
  ): StoredRecord | undefined {
    const fields = this.keyFieldsByEntity.get(entity);
    if (!fields) return undefined;
    const values = Array.isArray(key)
      ? key
      : fields.map((f) => (key as Record<string, unknown>)[f]);
    return this.table(database, entity, false)?.get(keyString(values));
  }

  count(database: string, entity: string): number {
    return this.table(database, entity, false)?.size ?? 0;
  }

  totalWrites(database: string, entity: string): number {
    let sum = 0;
    for (const record of this.table(database, entity, false)?.values() ?? []) sum += record.writes;
    return sum;
  }

  databases(): string[] {
    return [...this.data.keys()];
  }

  summary(database: string): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [entity, table] of this.data.get(database) ?? []) out[entity] = table.size;
    return out;
  }

  entities(): string[] {
    return [...this.keyFieldsByEntity.keys()];
  }

  clear(): void {
    this.data.clear();
  }
}
