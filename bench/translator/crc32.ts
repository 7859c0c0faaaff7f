// CRC-32 (IEEE 802.3, reflected, table-driven) over a 1 MiB buffer, repeated.
const TABLE = new StaticArray<u32>(256);

export function main(): void {
  for (let i: u32 = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    TABLE[i] = c;
  }
  const n = 1 << 20;
  const buf = heap.alloc(n);
  for (let i = 0; i < n; i++) store<u8>(buf + i, <u8>(i * 131 + (i >> 8)));
  let check: u32 = 0;
  for (let r = 0; r < 128; r++) {
    let crc: u32 = 0xffffffff;
    for (let i = 0; i < n; i++) crc = TABLE[(crc ^ load<u8>(buf + i)) & 0xff] ^ (crc >>> 8);
    check ^= ~crc + <u32>r;
  }
  trace("crc32", 1, <f64>check);
}
