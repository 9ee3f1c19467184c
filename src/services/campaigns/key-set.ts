/**
 * The set of dedupe keys seen so far, keyed by a 64-bit hash computed where the rows were
 * validated (possibly in a worker), so a million-row import does integer probes, not string
 * hashing. Equal hashes are confirmed by comparing the keys themselves (`keyOf` reads a key back
 * by the id it was added with), so a collision can never drop a real recipient.
 */
export class KeySet {
  private ids: Int32Array;
  private his: Uint32Array;
  private los: Uint32Array;
  private used = 0;

  /** `expected`: how many keys are likely, so the table rarely has to grow. */
  constructor(
    private readonly keyOf: (id: number) => string,
    expected = 30_000,
  ) {
    let size = 1 << 16;
    while (size < expected * 2) size *= 2;
    this.ids = new Int32Array(size).fill(-1);
    this.his = new Uint32Array(size);
    this.los = new Uint32Array(size);
  }

  get size(): number {
    return this.used;
  }

  /** Adds the key under `id` (readable through `keyOf` already); false when an equal key is present. */
  add(hi: number, lo: number, id: number): boolean {
    hi >>>= 0;
    lo >>>= 0;
    if ((this.used + 1) * 2 > this.ids.length) this.grow();
    const mask = this.ids.length - 1;
    let candidate: string | undefined;
    for (let i = (hi ^ lo) & mask; ; i = (i + 1) & mask) {
      const existing = this.ids[i]!;
      if (existing === -1) {
        this.ids[i] = id;
        this.his[i] = hi;
        this.los[i] = lo;
        this.used++;
        return true;
      }
      if (this.his[i] === hi && this.los[i] === lo) {
        candidate ??= this.keyOf(id);
        if (this.keyOf(existing) === candidate) return false;
      }
    }
  }

  private grow() {
    const { ids, his, los } = this;
    const size = ids.length * 2;
    this.ids = new Int32Array(size).fill(-1);
    this.his = new Uint32Array(size);
    this.los = new Uint32Array(size);
    const mask = size - 1;
    for (let j = 0; j < ids.length; j++) {
      if (ids[j] === -1) continue;
      let i = (his[j]! ^ los[j]!) & mask;
      while (this.ids[i] !== -1) i = (i + 1) & mask;
      this.ids[i] = ids[j]!;
      this.his[i] = his[j]!;
      this.los[i] = los[j]!;
    }
  }
}
