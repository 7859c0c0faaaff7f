// General heap: TLSF, two-level segregated fit, O(1) allocate and free.
//
// after: M. Masmano, I. Ripoll, A. Crespo, J. Real, "TLSF: a New Dynamic Memory Allocator for
// Real-Time Systems", ECRTS 2004 (mapping_insert / mapping_search, two bitmaps, boundary tags);
// layout and constants follow AssemblyScript's std/assembly/rt/tlsf.ts so asc's object header
// (rt/common.ts OBJECT: mmInfo at -20 .. rtSize at -4) sits right after our block header.
//
// For start-up and control-plane objects; the packet path uses pool.ts. Memory comes from the page
// allocator (pages.ts) in runs of >= GROW_PAGES pages; consecutive runs are adjacent and merge.
//
// Block (32-bit wasm pointers, payload 16-byte aligned, sizes multiples of 16 minus the header):
// ```
//  block ─► ┌──────────────────────────────────────────────┬─┬─┐
//           │ size (payload bytes)                         │L│F│  info: F = free, L = left neighbour free
//  payload ►├──────────────────────────────────────────────┴─┴─┤
//           │ if free: prev free block in the same size class   │
//           ├───────────────────────────────────────────────────┤
//           │ if free: next free block in the same size class   │
//           ├───────────────────────────────────────────────────┤
//           │ ...                                               │
//           ├───────────────────────────────────────────────────┤
//           │ if free: back pointer to this block (last word)   │  lets the right neighbour coalesce
//           └───────────────────────────────────────────────────┘
// ```
// Size classes: fl = floor(log2(size)) (sizes < 256 all in fl 0), sl = next 4 bits: 16 lists per
// power of two. flMap bit fl says "some sl list of fl is non-empty", slMap[fl] bit sl says "list
// (fl, sl) is non-empty"; search = two find-first-set operations.
//
// Each run of memory ends in a zero-size used "tail" block, so coalescing never runs off the end.
// Accounting: every byte of the managed runs belongs to exactly one block footprint (header + size)
// except the tails; `heapBytes` is their sum. In use + free == heapBytes at all times; after every
// allocation is freed, the free lists hold exactly heapBytes (heapCheck verifies it).

import { allocPages, PAGE_SIZE } from "./pages";

@inline const AL_BITS: u32 = 4;
@inline const AL_SIZE: usize = 1 << <usize>AL_BITS;
@inline const AL_MASK: usize = AL_SIZE - 1;
@inline const SL_BITS: u32 = 4;
@inline const SL_SIZE: u32 = 1 << SL_BITS;
@inline const SB_BITS: u32 = SL_BITS + AL_BITS;
@inline const SB_SIZE: usize = 1 << <usize>SB_BITS;
@inline const FL_BITS: u32 = 31 - SB_BITS;

@inline const FREE: usize = 1;
@inline const LEFTFREE: usize = 2;
@inline const TAGS: usize = FREE | LEFTFREE;

/** Block header bytes. */
@inline export const BLOCK_OVERHEAD: usize = 4;
/** Smallest payload: room for prev, next and back when free. */
@inline const BLOCK_MINSIZE: usize = ((3 * 4 + BLOCK_OVERHEAD + AL_MASK) & ~AL_MASK) - BLOCK_OVERHEAD;
/** Largest payload (1 GiB minus the header). */
@inline export const BLOCK_MAXSIZE: usize = (1 << 30) - BLOCK_OVERHEAD;
/** The heap grows by at least this many pages (64 KiB) at a time. */
@inline const GROW_PAGES: u32 = 16;
/** Runs (non-adjacent memory) remembered for heapCheck's physical walk. */
@inline const MAX_RUNS: i32 = 8;

// Root: u32 flMap, u32 slMap[FL_BITS], usize head[FL_BITS][SL_SIZE].
@inline const SL_START: usize = 4;
@inline const HL_START: usize = (SL_START + FL_BITS * 4 + AL_MASK) & ~AL_MASK;
@inline const ROOT_SIZE: usize = HL_START + FL_BITS * SL_SIZE * 4;

// Block field offsets.
@inline const INFO = 0;
@inline const PREV = 4;
@inline const NEXT = 8;

let root: usize = 0;
let tail: usize = 0;
const runs = memory.data(MAX_RUNS * 4);
let runCount: i32 = 0;

// ---- counters (read through kernel/runtime/index.ts) ----
let allocations: u64 = 0;
let frees: u64 = 0;
let bytesInUse: u64 = 0; // footprints (header + payload) of allocated blocks
let peakBytesInUse: u64 = 0;
let heapBytes: u64 = 0; // footprints of all blocks (tails excluded)

@inline function info(b: usize): usize { return load<usize>(b, INFO); }
@inline function setInfo(b: usize, v: usize): void { store<usize>(b, v, INFO); }
@inline function sizeOf(b: usize): usize { return info(b) & ~TAGS; }
@inline function rightOf(b: usize): usize { return b + BLOCK_OVERHEAD + sizeOf(b); }
@inline function freeLeftOf(b: usize): usize { return load<usize>(b - 4); }
@inline function slAt(fl: u32): u32 { return load<u32>(root + (<usize>fl << 2), SL_START); }
@inline function setSl(fl: u32, v: u32): void { store<u32>(root + (<usize>fl << 2), v, SL_START); }
@inline function headAt(fl: u32, sl: u32): usize {
  return load<usize>(root + ((<usize>(fl << SL_BITS) + <usize>sl) << 2), HL_START);
}
@inline function setHead(fl: u32, sl: u32, b: usize): void {
  store<usize>(root + ((<usize>(fl << SL_BITS) + <usize>sl) << 2), b, HL_START);
}

/** mapping_insert: the list a free block of `size` goes on, as (fl << 8) | sl. */
@inline function classOf(size: usize): u32 {
  if (size < SB_SIZE) return <u32>(size >> AL_BITS);
  const bounded = min(size, BLOCK_MAXSIZE);
  const fl = 31 - <u32>clz<usize>(bounded);
  const sl = <u32>((bounded >> (fl - SL_BITS)) ^ (1 << SL_BITS));
  return ((fl - (SB_BITS - 1)) << 8) | sl;
}

function insertBlock(block: usize): void {
  let blockInfo = info(block);
  let right = rightOf(block);
  let rightInfo = info(right);
  if (rightInfo & FREE) { // merge with the right neighbour
    removeBlock(right);
    blockInfo = blockInfo + BLOCK_OVERHEAD + (rightInfo & ~TAGS);
    setInfo(block, blockInfo);
    right = rightOf(block);
    rightInfo = info(right);
  }
  if (blockInfo & LEFTFREE) { // merge with the left neighbour
    const left = freeLeftOf(block);
    const leftInfo = info(left);
    removeBlock(left);
    block = left;
    blockInfo = leftInfo + BLOCK_OVERHEAD + (blockInfo & ~TAGS);
    setInfo(block, blockInfo);
  }
  setInfo(right, rightInfo | LEFTFREE);
  store<usize>(right - 4, block); // back pointer
  const c = classOf(blockInfo & ~TAGS);
  const fl = c >> 8, sl = c & 0xff;
  const head = headAt(fl, sl);
  store<usize>(block, 0, PREV);
  store<usize>(block, head, NEXT);
  if (head) store<usize>(head, block, PREV);
  setHead(fl, sl, block);
  store<u32>(root, load<u32>(root) | (1 << fl));
  setSl(fl, slAt(fl) | (1 << sl));
}

function removeBlock(block: usize): void {
  const c = classOf(sizeOf(block));
  const fl = c >> 8, sl = c & 0xff;
  const prev = load<usize>(block, PREV);
  const next = load<usize>(block, NEXT);
  if (prev) store<usize>(prev, next, NEXT);
  if (next) store<usize>(next, prev, PREV);
  if (block == headAt(fl, sl)) {
    setHead(fl, sl, next);
    if (!next) {
      const slMap = slAt(fl) & ~(1 << sl);
      setSl(fl, slMap);
      if (!slMap) store<u32>(root, load<u32>(root) & ~(1 << fl));
    }
  }
}

/** mapping_search: first free block of at least `size` bytes, or 0. */
function searchBlock(size: usize): usize {
  let fl: u32, sl: u32;
  if (size < SB_SIZE) {
    fl = 0;
    sl = <u32>(size >> AL_BITS);
  } else {
    // round up to the next list boundary so any block on the found list is big enough
    const request = size < (BLOCK_MAXSIZE >> 1) ? size + (<usize>1 << (31 - SL_BITS - <usize>clz<usize>(size))) - 1 : size;
    fl = 31 - <u32>clz<usize>(request);
    sl = <u32>((request >> (fl - SL_BITS)) ^ (1 << SL_BITS));
    fl -= SB_BITS - 1;
  }
  let slMap = slAt(fl) & (~0 << sl);
  if (!slMap) {
    const flMap = load<u32>(root) & (~0 << (fl + 1));
    if (!flMap) return 0;
    fl = ctz<u32>(flMap);
    slMap = slAt(fl);
  }
  return headAt(fl, ctz<u32>(slMap));
}

/** Marks `block` used with payload `size`, splitting off the rest when it can stand alone. */
function prepareBlock(block: usize, size: usize): void {
  const blockInfo = info(block);
  const remaining = (blockInfo & ~TAGS) - size;
  if (remaining >= BLOCK_OVERHEAD + BLOCK_MINSIZE) {
    setInfo(block, size | (blockInfo & LEFTFREE));
    const spare = block + BLOCK_OVERHEAD + size;
    setInfo(spare, (remaining - BLOCK_OVERHEAD) | FREE);
    insertBlock(spare);
  } else {
    setInfo(block, blockInfo & ~FREE);
    const right = rightOf(block);
    setInfo(right, info(right) & ~LEFTFREE);
  }
}

/** Adds [start, end) as free memory; merges with the current tail when adjacent. */
function addMemory(start: usize, end: usize): bool {
  start = ((start + BLOCK_OVERHEAD + AL_MASK) & ~AL_MASK) - BLOCK_OVERHEAD;
  end &= ~AL_MASK;
  let tailInfo: usize = 0;
  if (tail != 0 && start - AL_SIZE == tail) {
    start = tail; // the old tail's header becomes this block's
    tailInfo = info(tail);
  } else if (runCount < MAX_RUNS) {
    store<usize>(runs + (<usize>runCount << 2), start);
    runCount++;
  }
  const size = end - start;
  if (size < BLOCK_OVERHEAD + BLOCK_MINSIZE + BLOCK_OVERHEAD) return false;
  const leftSize = size - 2 * BLOCK_OVERHEAD;
  setInfo(start, leftSize | FREE | (tailInfo & LEFTFREE));
  tail = start + BLOCK_OVERHEAD + leftSize;
  setInfo(tail, LEFTFREE); // zero-size used block
  heapBytes += <u64>(BLOCK_OVERHEAD + leftSize);
  insertBlock(start);
  return true;
}

/** Gets at least `size` more bytes from the page allocator. */
function grow(size: usize): bool {
  const bytes = <u64>size + 2 * AL_SIZE + 2 * BLOCK_OVERHEAD;
  let pages = <u32>((bytes + PAGE_SIZE - 1) / PAGE_SIZE);
  if (pages < GROW_PAGES) pages = GROW_PAGES;
  const start = allocPages(pages);
  if (start == 0) return false;
  return addMemory(start, start + (<usize>pages * PAGE_SIZE));
}

function init(): bool {
  const start = allocPages(GROW_PAGES);
  if (start == 0) return false;
  root = start;
  zeroWords(root, ROOT_SIZE);
  return addMemory(root + ROOT_SIZE, start + <usize>GROW_PAGES * PAGE_SIZE);
}

/**
 * Zeroes `bytes` (a multiple of 4) at `p`. A loop rather than memory.fill: the kernel module stays
 * free of bulk-memory operators (test/kernel/compile.test.ts).
 */
export function zeroWords(p: usize, bytes: usize): void {
  for (let i: usize = 0; i < bytes; i += 4) store<u32>(p + i, 0);
}

/** Payload size for a request: at least the minimum, aligned so the next header keeps alignment. */
@inline function payloadFor(size: usize): usize {
  return size < BLOCK_MINSIZE ? BLOCK_MINSIZE : ((size + BLOCK_OVERHEAD + AL_MASK) & ~AL_MASK) - BLOCK_OVERHEAD;
}

/** `size` bytes, 16-byte aligned, contents undefined; 0 when out of memory or too large. */
export function heapAlloc(size: usize): usize {
  if (size > BLOCK_MAXSIZE) return 0;
  if (root == 0 && !init()) return 0;
  const payload = payloadFor(size);
  let block = searchBlock(payload);
  if (block == 0) {
    if (!grow(payload)) return 0;
    block = searchBlock(payload);
    if (block == 0) return 0;
  }
  removeBlock(block);
  prepareBlock(block, payload);
  allocations++;
  bytesInUse += <u64>(BLOCK_OVERHEAD + sizeOf(block));
  if (bytesInUse > peakBytesInUse) peakBytesInUse = bytesInUse;
  return block + BLOCK_OVERHEAD;
}

/** Frees a pointer from heapAlloc / heapRealloc. Aborts on a misaligned pointer or a double free. */
export function heapFree(ptr: usize): void {
  const block = ptr - BLOCK_OVERHEAD;
  if (root == 0 || (ptr & AL_MASK) != 0 || ptr < root + ROOT_SIZE) {
    abort("heap: bad free");
  }
  const blockInfo = info(block);
  if (blockInfo & FREE) abort("heap: double free");
  frees++;
  bytesInUse -= <u64>(BLOCK_OVERHEAD + (blockInfo & ~TAGS));
  setInfo(block, blockInfo | FREE);
  insertBlock(block);
}

/** Resizes: in place when the block is already big enough, else allocate, copy, free. */
export function heapRealloc(ptr: usize, size: usize): usize {
  if (ptr == 0) return heapAlloc(size);
  const old = sizeOf(ptr - BLOCK_OVERHEAD);
  if (payloadFor(size) <= old) return ptr;
  const p = heapAlloc(size);
  if (p == 0) return 0;
  for (let i: usize = 0; i < old; i += 4) store<u32>(p + i, load<u32>(ptr + i)); // old % 4 == 0
  heapFree(ptr);
  return p;
}

/** Usable bytes of an allocated block (>= the size asked for). */
export function heapBlockSize(ptr: usize): usize { return sizeOf(ptr - BLOCK_OVERHEAD); }

export function heapAllocations(): u64 { return allocations; }
export function heapFrees(): u64 { return frees; }
export function heapBytesInUse(): u64 { return bytesInUse; }
export function heapPeakBytesInUse(): u64 { return peakBytesInUse; }
export function heapTotalBytes(): u64 { return heapBytes; }
export function heapReady(): bool { return root != 0; }

/** Result of the last heapCheck: bytes on the free lists, free blocks found. */
let checkedFreeBytes: u64 = 0;
let checkedFreeBlocks: u32 = 0;
export function heapCheckedFreeBytes(): u64 { return checkedFreeBytes; }
export function heapCheckedFreeBlocks(): u32 { return checkedFreeBlocks; }

/**
 * Walks every free list and every run of blocks. Returns 0 when consistent, else a code:
 * 1 a listed block is not free / on the wrong list / badly linked, 2 a bitmap disagrees with a list,
 * 3 neighbour tags or back pointer wrong, 4 two adjacent free blocks, 5 list and walk totals differ,
 * 6 in use + free != heap size.
 */
export function heapCheck(): i32 {
  checkedFreeBytes = 0;
  checkedFreeBlocks = 0;
  if (root == 0) return 0;
  let listed: u64 = 0;
  const flMap = load<u32>(root);
  for (let fl: u32 = 0; fl < FL_BITS; fl++) {
    const slMap = slAt(fl);
    if (((flMap >> fl) & 1) != (slMap != 0 ? 1 : 0)) return 2;
    for (let sl: u32 = 0; sl < SL_SIZE; sl++) {
      let b = headAt(fl, sl);
      if (((slMap >> sl) & 1) != (b != 0 ? 1 : 0)) return 2;
      let prev: usize = 0;
      while (b != 0) {
        if ((info(b) & FREE) == 0 || classOf(sizeOf(b)) != ((fl << 8) | sl)) return 1;
        if (load<usize>(b, PREV) != prev) return 1;
        listed += <u64>(BLOCK_OVERHEAD + sizeOf(b));
        checkedFreeBlocks++;
        prev = b;
        b = load<usize>(b, NEXT);
      }
    }
  }
  let walkedFree: u64 = 0;
  let walkedUsed: u64 = 0;
  for (let r = 0; r < runCount; r++) {
    let b = load<usize>(runs + (<usize>r << 2));
    let leftFree = false;
    while (true) {
      const i = info(b);
      if (((i & LEFTFREE) != 0) != leftFree) return 3;
      if (leftFree && freeLeftOf(b) == 0) return 3;
      if ((i & ~TAGS) == 0 && (i & FREE) == 0) break; // tail
      if (i & FREE) {
        if (leftFree) return 4;
        if (load<usize>(rightOf(b) - 4) != b) return 3;
        walkedFree += <u64>(BLOCK_OVERHEAD + (i & ~TAGS));
      } else {
        walkedUsed += <u64>(BLOCK_OVERHEAD + (i & ~TAGS));
      }
      leftFree = (i & FREE) != 0;
      b = rightOf(b);
    }
  }
  if (walkedFree != listed) return 5;
  if (walkedUsed != bytesInUse || walkedFree + walkedUsed != heapBytes) return 6;
  checkedFreeBytes = listed;
  return 0;
}
