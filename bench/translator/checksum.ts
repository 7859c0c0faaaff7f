// The Internet checksum (RFC 1071 §4.1: 16-bit one's complement sum) over packet-sized buffers.
export function main(): void {
  const n = 1 << 16;
  const buf = heap.alloc(n);
  for (let i = 0; i < n; i++) store<u8>(buf + i, <u8>(i * 7 + 3));
  let check: u32 = 0;
  for (let r = 0; r < 40000; r++) {
    for (let off = 0; off + 1500 <= n; off += 1500) {
      let sum: u64 = 0;
      const p = buf + off;
      for (let i = 0; i < 1500; i += 4) sum += <u64>load<u32>(p + i);
      while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
      check += <u32>(~sum & 0xffff);
    }
    store<u8>(buf + (r & 0xffff), <u8>r);
  }
  trace("checksum", 1, <f64>check);
}
