// Feed ids → our integer keys, looked up by where an id sits in a larger text: the stop_times hot path
// finds a stop_id without making a string of it (a string per row costs more than the lookup, and
// millions of them keep the garbage collector busy). Open addressing with linear probing, FNV-1a hash.

const EMPTY = -1;

export class IdLookup {
  private readonly keys: string[];
  private readonly values: Int32Array;
  private readonly mask: number;

  /** `ids`: id → non-negative integer. */
  constructor(ids: ReadonlyMap<string, number>) {
    let size = 16;
    while (size < ids.size * 2) size <<= 1; // at most half full: short probe runs
    this.mask = size - 1;
    this.keys = new Array<string>(size).fill("");
    this.values = new Int32Array(size).fill(EMPTY);
    for (const [id, value] of ids) {
      let slot = hash(id, 0, id.length) & this.mask;
      while (this.values[slot] !== EMPTY) slot = (slot + 1) & this.mask;
      this.keys[slot] = id;
      this.values[slot] = value;
    }
  }

  /** The value of the id text[from, to), or -1 when there is none. */
  get(text: string, from: number, to: number): number {
    const length = to - from;
    for (let slot = hash(text, from, to) & this.mask; ; slot = (slot + 1) & this.mask) {
      const value = this.values[slot]!;
      if (value === EMPTY) return EMPTY;
      const key = this.keys[slot]!;
      if (key.length === length && text.startsWith(key, from)) return value;
    }
  }
}

function hash(text: string, from: number, to: number): number {
  let h = 0x811c9dc5;
  for (let i = from; i < to; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
