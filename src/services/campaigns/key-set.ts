/**
 * The set of dedupe keys seen so far, as an open-addressing table over precomputed 32-bit hashes
 * (computed where the rows were validated, possibly in a worker). Keys are compared only when
 * hashes meet, so a million-row import does a million integer probes instead of string hashing.
 */
export class KeySet {
  private slots = new Int32Array(1 << 16).fill(-1);
  private slotHashes = new Uint32Array(1 << 16);
  private keys: string[] = [];

  get size(): number {
    return this.keys.length;
  }

  /** Adds the key; false when it was already present. */
  add(key: string, hash: number): boolean {
    if ((this.keys.length + 1) * 2 > this.slots.length) this.grow();
    const mask = this.slots.length - 1;
    for (let i = hash & mask; ; i = (i + 1) & mask) {
      const index = this.slots[i]!;
      if (index === -1) {
        this.slots[i] = this.keys.length;
        this.slotHashes[i] = hash;
        this.keys.push(key);
        return true;
      }
      if (this.slotHashes[i] === hash && this.keys[index] === key) return false;
    }
  }

  private grow() {
    const oldSlots = this.slots;
    const oldHashes = this.slotHashes;
    this.slots = new Int32Array(oldSlots.length * 2).fill(-1);
    this.slotHashes = new Uint32Array(oldSlots.length * 2);
    const mask = this.slots.length - 1;
    for (let j = 0; j < oldSlots.length; j++) {
      const index = oldSlots[j]!;
      if (index === -1) continue;
      let i = oldHashes[j]! & mask;
      while (this.slots[i] !== -1) i = (i + 1) & mask;
      this.slots[i] = index;
      this.slotHashes[i] = oldHashes[j]!;
    }
  }
}
