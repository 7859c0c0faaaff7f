// Fixed-size buffer pools for the packet path: allocate and free are O(1) and never touch the heap.
//
// A pool is one contiguous run of pages from the page allocator, cut into `count` buffers of
// `bufferSize` bytes (a power of two >= 64, so buffers never straddle cache lines and an index is a
// shift). Free buffers form an intrusive LIFO list: the first word of a free buffer holds the address
// of the next one (LIFO keeps recently used, cache-warm buffers in circulation). A bitmap with one
// bit per buffer (1 = in use) catches double frees and foreign pointers at O(1) cost.
// Buffers are DMA-able as they are: wasm address = physical address.
//
// ```
//  base ─► ┌──────────┬──────────┬──────────┬─────┬──────────┐
//          │ buffer 0 │ buffer 1 │ buffer 2 │ ... │ buffer n-1│   free: word 0 = next free (or 0)
//          └──────────┴──────────┴──────────┴─────┴──────────┘
//  freeHead ─► buffer 2 ─► buffer 0 ─► 0            bitmap: bit i = buffer i in use
// ```

import { allocPages, PAGE_SIZE } from "./pages";
import { zeroWords } from "./heap";

/** Pools registered for the counters / panic screen. */
@inline export const MAX_POOLS: i32 = 8;

export class BufferPool {
  /** First buffer. */
  base: usize = 0;
  /** One past the last buffer. */
  end: usize = 0;
  bufferSize: u32 = 0;
  capacity: u32 = 0;
  inUse: u32 = 0;
  peakInUse: u32 = 0;
  allocations: u64 = 0;
  frees: u64 = 0;
  /** alloc() calls that found the pool empty. */
  failures: u64 = 0;
  // internal (set by createPool):
  shift: u32 = 0;
  freeHead: usize = 0;
  bitmap: usize = 0;

  /** A buffer, or 0 when all are in use (the caller drops or retries; never blocks). */
  alloc(): usize {
    const b = this.freeHead;
    if (b == 0) {
      this.failures++;
      return 0;
    }
    this.freeHead = load<usize>(b);
    const i = (b - this.base) >> <usize>this.shift;
    const word = this.bitmap + ((i >> 5) << 2);
    store<u32>(word, load<u32>(word) | (1 << <u32>(i & 31)));
    this.allocations++;
    const n = ++this.inUse;
    if (n > this.peakInUse) this.peakInUse = n;
    return b;
  }

  /** Returns a buffer from alloc(). Aborts on a pointer not from this pool or a double free. */
  free(b: usize): void {
    const off = b - this.base;
    if (b < this.base || b >= this.end || (off & ((<usize>1 << <usize>this.shift) - 1)) != 0) {
      abort("pool: bad free");
    }
    const i = off >> <usize>this.shift;
    const word = this.bitmap + ((i >> 5) << 2);
    const bit: u32 = 1 << <u32>(i & 31);
    const w = load<u32>(word);
    if ((w & bit) == 0) abort("pool: double free");
    store<u32>(word, w & ~bit);
    store<usize>(b, this.freeHead);
    this.freeHead = b;
    this.frees++;
    this.inUse--;
  }

  /** True when `b` is a buffer of this pool that is currently allocated. */
  owns(b: usize): bool {
    if (b < this.base || b >= this.end) return false;
    const i = (b - this.base) >> <usize>this.shift;
    return (load<u32>(this.bitmap + ((i >> 5) << 2)) & (1 << <u32>(i & 31))) != 0;
  }

  /** Length of the free list, walked (for tests: must equal capacity - inUse). */
  countFree(): u32 {
    let n: u32 = 0;
    for (let b = this.freeHead; b != 0; b = load<usize>(b)) n++;
    return n;
  }
}

const pools = memory.data(MAX_POOLS * 4);
let poolCount: i32 = 0;

/**
 * A pool of `count` buffers of `bufferSize` bytes (power of two, 64 .. 64 KiB); null when RAM is
 * short. Pools live for the life of the kernel (there is no destroy: drivers size them at start).
 */
export function createPool(bufferSize: u32, count: u32): BufferPool | null {
  if (bufferSize < 64 || bufferSize > 65536 || (bufferSize & (bufferSize - 1)) != 0 || count == 0) {
    abort("pool: bad size");
  }
  const bytes = <u64>bufferSize * count;
  const pages = <u32>((bytes + PAGE_SIZE - 1) / PAGE_SIZE);
  const bitmapPages = <u32>(((<u64>count + 31) / 32 * 4 + PAGE_SIZE - 1) / PAGE_SIZE);
  const base = allocPages(pages);
  if (base == 0) return null;
  const bitmap = allocPages(bitmapPages);
  if (bitmap == 0) return null;
  zeroWords(bitmap, <usize>bitmapPages * PAGE_SIZE);
  const p = new BufferPool();
  p.base = base;
  p.end = base + <usize>bytes;
  p.bufferSize = bufferSize;
  p.capacity = count;
  p.shift = 31 - <u32>clz<u32>(bufferSize);
  p.bitmap = bitmap;
  // Thread the free list so buffer 0 comes out first.
  let next: usize = 0;
  for (let i = <i32>count - 1; i >= 0; i--) {
    const b = base + (<usize>i << <usize>p.shift);
    store<usize>(b, next);
    next = b;
  }
  p.freeHead = next;
  if (poolCount < MAX_POOLS) {
    store<usize>(pools + (<usize>poolCount << 2), changetype<usize>(p));
    poolCount++;
  }
  return p;
}

/** Number of registered pools. */
export function poolsCount(): i32 { return poolCount; }
/** Registered pool i (0 <= i < poolsCount()). */
export function poolAt(i: i32): BufferPool { return changetype<BufferPool>(load<usize>(pools + (<usize>i << 2))); }
