// A growable bit set of row numbers: the rows a run has finished, one bit per row.

export class RowSet {
  private bits = new Uint8Array(1024);
  size = 0;
  has(row: number): boolean {
    const byte = row >>> 3;
    return byte < this.bits.length && ((this.bits[byte] as number) & (1 << (row & 7))) !== 0;
  }
  /** Adds every row of `other`. */
  addAll(other: RowSet): void {
    const theirs = other.bits;
    if (theirs.length > this.bits.length) {
      const grown = new Uint8Array(theirs.length);
      grown.set(this.bits);
      this.bits = grown;
    }
    for (let i = 0; i < theirs.length; i++) {
      const added = (theirs[i] as number) & ~(this.bits[i] as number);
      if (added === 0) continue;
      this.bits[i] = (this.bits[i] as number) | added;
      for (let b = added; b !== 0; b &= b - 1) this.size++;
    }
  }
  add(row: number): boolean {
    const byte = row >>> 3;
    if (byte >= this.bits.length) {
      let n = this.bits.length;
      while (n <= byte) n *= 2;
      const grown = new Uint8Array(n);
      grown.set(this.bits);
      this.bits = grown;
    }
    const mask = 1 << (row & 7);
    if (((this.bits[byte] as number) & mask) !== 0) return false;
    this.bits[byte] = (this.bits[byte] as number) | mask;
    this.size++;
    return true;
  }
}
