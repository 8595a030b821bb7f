/**
 * Blocks by 32-bit hash, over typed arrays: the lookup both dense matchers (blockMatch.ts,
 * exactTwins.ts) make for every block and every symmetry of it. A chained table holds the
 * indices; two bit filters (hashes present, hashes present more than once) answer most lookups,
 * which find no twin, with one cache-friendly read instead of a probe into the table.
 */
const FILTER_BITS = 24;

export class BlockTable {
  private readonly head: Int32Array;
  private readonly next: Int32Array;
  private readonly mask: number;
  private readonly present = new Uint32Array(1 << (FILTER_BITS - 5));
  private readonly repeated = new Uint32Array(1 << (FILTER_BITS - 5));

  /** Indexes block i under hashes[i] for every i with active[i] set. */
  constructor(
    private readonly hashes: Int32Array | Uint32Array,
    active: Uint8Array,
  ) {
    let count = 0;
    for (let i = 0; i < active.length; i++) count += active[i];
    let cap = 1024;
    while (cap < 2 * count) cap *= 2;
    this.mask = cap - 1;
    this.head = new Int32Array(cap).fill(-1);
    this.next = new Int32Array(hashes.length).fill(-1);
    for (let i = 0; i < hashes.length; i++) {
      if (!active[i]) continue;
      const h = hashes[i];
      const slot = this.slotOf(h);
      this.next[i] = this.head[slot];
      this.head[slot] = i;
      const b = bitOf(h);
      if (this.present[b >>> 5] & (1 << (b & 31))) this.repeated[b >>> 5] |= 1 << (b & 31);
      this.present[b >>> 5] |= 1 << (b & 31);
    }
  }

  /**
   * Blocks whose hash is h into `out`: their count, or -1 when there are more than out.length
   * (an ambiguous bucket). `twice`: only hashes held at least twice can answer (a block looking
   * for an identical twin finds itself).
   */
  find(h: number, out: Int32Array, twice = false): number {
    const b = bitOf(h);
    if (!((twice ? this.repeated : this.present)[b >>> 5] & (1 << (b & 31)))) return 0;
    const hashes = this.hashes;
    let found = 0;
    for (let i = this.head[this.slotOf(h)]; i >= 0; i = this.next[i]) {
      if (hashes[i] !== h) continue;
      if (found === out.length) return -1;
      out[found++] = i;
    }
    return found;
  }

  private slotOf(h: number): number {
    return (Math.imul(h ^ (h >>> 16), 0x45d9f3b) >>> 0) & this.mask;
  }
}

/**
 * The active entries whose hash may be held more than once (1) by the table's seen-twice filter:
 * every entry of a repeated hash and a few chance others, without building a table. A table of
 * these alone then answers exactly, at a fraction of the memory traffic of one over every entry.
 */
export function possiblyRepeated(hashes: Int32Array | Uint32Array, active: Uint8Array): Uint8Array {
  const present = new Uint32Array(1 << (FILTER_BITS - 5));
  const repeated = new Uint32Array(1 << (FILTER_BITS - 5));
  for (let i = 0; i < active.length; i++) {
    if (!active[i]) continue;
    const b = bitOf(hashes[i]);
    if (present[b >>> 5] & (1 << (b & 31))) repeated[b >>> 5] |= 1 << (b & 31);
    present[b >>> 5] |= 1 << (b & 31);
  }
  const out = new Uint8Array(active.length);
  for (let i = 0; i < active.length; i++) {
    const b = bitOf(hashes[i]);
    if (active[i] && repeated[b >>> 5] & (1 << (b & 31))) out[i] = 1;
  }
  return out;
}

function bitOf(h: number): number {
  return Math.imul(h, 0x9e3779b1) >>> (32 - FILTER_BITS);
}
