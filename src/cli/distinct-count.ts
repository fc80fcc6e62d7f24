/* eslint-disable no-bitwise -- hashing and HyperLogLog registers are bit operations */
/**
 * Distinct clients without keeping them all: exact up to `exactLimit` (a plain set), then a HyperLogLog estimate
 * (16,384 registers, 16 KB, standard error about 0.8%). A replay of a day of logs can see tens of millions of clients;
 * a set of them all would hold more memory than the rest of the replay together.
 */
export class DistinctCount {
  private static readonly P = 14;
  private exact: Set<string> | undefined = new Set();
  private readonly registers = new Uint8Array(1 << DistinctCount.P);

  constructor(private readonly exactLimit = 100_000) {}

  public add(key: string): void {
    if (this.exact) {
      this.exact.add(key);
      if (this.exact.size <= this.exactLimit) return;
      // Registers are filled only once the set overflows: most replays never hash a key.
      for (const k of this.exact) this.register(k);
      this.exact = undefined;
      return;
    }
    this.register(key);
  }

  private register(key: string): void {
    const h = hash32(key);
    const index = h >>> (32 - DistinctCount.P);
    // Rank of the first 1 bit in the remaining 18 bits; the guard bit caps it at 19.
    const rank = Math.clz32((h << DistinctCount.P) | (1 << (DistinctCount.P - 1))) + 1;
    if (rank > this.registers[index]) this.registers[index] = rank;
  }

  /** Whether `value` is exact (false once more than `exactLimit` distinct keys were seen). */
  public get isExact(): boolean {
    return this.exact !== undefined;
  }

  public get value(): number {
    if (this.exact) return this.exact.size;
    const m = this.registers.length;
    let sum = 0;
    let zeros = 0;
    for (const r of this.registers) {
      sum += 2 ** -r;
      if (r === 0) zeros++;
    }
    const estimate = ((0.7213 / (1 + 1.079 / m)) * m * m) / sum;
    // Small cardinalities: linear counting is the better estimate (Flajolet et al., 2007).
    return Math.round(estimate <= 2.5 * m && zeros > 0 ? m * Math.log(m / zeros) : estimate);
  }
}

/** FNV-1a over the characters, then the MurmurHash3 finaliser so that every output bit depends on every input bit. */
function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
