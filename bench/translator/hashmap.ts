// A hash map: open addressing with linear probing, u32 keys -> u32 values, inserts and lookups.
const CAP: u32 = 1 << 20;
export function main(): void {
  const keys = heap.alloc(<usize>CAP << 2), vals = heap.alloc(<usize>CAP << 2);
  let check: u32 = 0;
  for (let r: u32 = 0; r < 16; r++) {
    memory.fill(keys, 0, <usize>CAP << 2);
    let s: u32 = 0x9e3779b9 + r;
    for (let i: u32 = 0; i < (CAP >> 1); i++) {
      s ^= s << 13; s ^= s >>> 17; s ^= s << 5;
      const k = s | 1;
      let h = (k * 0x9e3779b1) >>> 12;
      while (true) {
        const p = keys + (<usize>h << 2);
        const cur = load<u32>(p);
        if (cur == 0 || cur == k) { store<u32>(p, k); store<u32>(vals + (<usize>h << 2), i); break; }
        h = (h + 1) & (CAP - 1);
      }
    }
    s = 0x9e3779b9 + r;
    for (let i: u32 = 0; i < (CAP >> 1); i++) {
      s ^= s << 13; s ^= s >>> 17; s ^= s << 5;
      const k = (i & 1) ? s | 1 : (s | 1) ^ 0x80000000;
      let h = (k * 0x9e3779b1) >>> 12;
      while (true) {
        const cur = load<u32>(keys + (<usize>h << 2));
        if (cur == k) { check += load<u32>(vals + (<usize>h << 2)); break; }
        if (cur == 0) { check += 1; break; }
        h = (h + 1) & (CAP - 1);
      }
    }
  }
  trace("hashmap", 1, <f64>check);
}
