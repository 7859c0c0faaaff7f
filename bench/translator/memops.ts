// memcpy/memset-heavy code: copying and clearing buffers of varied sizes (memory.copy/fill).
export function main(): void {
  const n = 1 << 20;
  const a = heap.alloc(n), b = heap.alloc(n);
  for (let i = 0; i < n; i++) store<u8>(a + i, <u8>i);
  let check: u32 = 0;
  let size: usize = 1;
  for (let r = 0; r < 1000000; r++) {
    size = (size * 1103515245 + 12345) & 0xffff;
    const off = (<usize>r * 4099) & (n - 0x10000 - 1);
    memory.copy(b + off, a + off + (r & 7), size);
    memory.fill(a + off + 3, <u8>r, size >> 1);
    check += load<u8>(b + off + (size >> 1)) + load<u8>(a + off + 5);
  }
  trace("memops", 1, <f64>check);
}
