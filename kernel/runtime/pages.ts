// Physical page allocator: 4 KiB pages of usable RAM from the firmware memory map.
//
// Sources: E820 / hvm_memmap types (ACPI 6.4 §15 "System Address Map Interfaces", type 1 = usable
// RAM), read through kernel/bootinfo.ts. wasm address = physical address (tools/link/ABI.md), so a
// page handed out here is directly usable by the kernel module.
//
// What it manages: every usable-RAM range above the kernel module's static data (`__heap_base`,
// rounded up to a page) and below `limit`:
//   - a sandboxed guest's linear memory (GUEST_MEMORY_BASE) when the image has one above us,
//   - 4 GiB otherwise (the boot stub identity-maps 0..4 GiB; wasm32 pointers end there too).
// Without a memory map (unit tests under Node with an empty boot info) one range [base, limit) is
// assumed and memory.grow decides what exists.
//
// ```
//  0 ─ 1 MiB ─ image ─ 4 MiB static data ─┬─ __heap_base ┬──────────── RAM range 0 ──────────┐ hole ┌─ range 1 ─
//                                         │  page-aligned │ bump ──►  (never handed back)     │      │
// ```
// Allocation bumps through the ranges in address order (runs of n pages are contiguous); single
// pages that are freed go on an intrusive free list (next pointer in the page's first word) and are
// reused by later one-page requests. Both operations are O(1) except for skipping to the next range.
//
// memory.size is kept covering every page handed out (memory.grow), so the module's view of its
// memory stays honest and the same code runs under Node, where memory.grow really allocates.

import { memoryRegionCount, memoryRegionBase, memoryRegionLength, memoryRegionType, MemoryType } from "../bootinfo";
import { guestMemoryBase } from "../arch/x86_64/image";

/** Page size (SDM Vol. 3A §4.5: 4 KiB pages). */
@inline export const PAGE_SIZE: usize = 4096;
/** log2(PAGE_SIZE). */
@inline const PAGE_SHIFT: u64 = 12;
/** Usable-RAM ranges remembered at most. */
@inline const MAX_RANGES: i32 = 8;
/** End of the identity-mapped (and wasm32-addressable) space. */
@inline const FOUR_GIB: u64 = 0x1_0000_0000;
/** Bytes per wasm page. */
@inline const WASM_PAGE_SHIFT: u64 = 16;

// Ranges: u64 start, u64 end (exclusive), both page-aligned, sorted by start.
const ranges = memory.data(MAX_RANGES * 16);
let rangeCount: i32 = 0;
let current: i32 = 0; // range the bump pointer is in
let bump: u64 = 0; // next never-used page in ranges[current]
let freeList: usize = 0; // single freed pages
let freeListPages: u64 = 0;
let totalPages: u64 = 0;
let usedPages: u64 = 0;
let ready = false;

@inline function rangeStart(i: i32): u64 { return load<u64>(ranges + <usize>i * 16); }
@inline function rangeEnd(i: i32): u64 { return load<u64>(ranges + <usize>i * 16, 8); }

/** Adds [start, end) clipped to [base, limit), page-aligned inwards, keeping the list sorted. */
function addRange(start: u64, end: u64, base: u64, limit: u64): void {
  if (start < base) start = base;
  if (end > limit) end = limit;
  start = (start + PAGE_SIZE - 1) & ~(<u64>PAGE_SIZE - 1);
  end &= ~(<u64>PAGE_SIZE - 1);
  if (end <= start || rangeCount == MAX_RANGES) return;
  let i = rangeCount;
  while (i > 0 && rangeStart(i - 1) > start) {
    store<u64>(ranges + <usize>i * 16, rangeStart(i - 1));
    store<u64>(ranges + <usize>i * 16, rangeEnd(i - 1), 8);
    i--;
  }
  store<u64>(ranges + <usize>i * 16, start);
  store<u64>(ranges + <usize>i * 16, end, 8);
  rangeCount++;
  totalPages += (end - start) >> PAGE_SHIFT;
}

/** Reads the memory map once. Idempotent. */
export function pagesInit(): void {
  if (ready) return;
  ready = true;
  const base = (<u64>__heap_base + PAGE_SIZE - 1) & ~(<u64>PAGE_SIZE - 1);
  let limit = FOUR_GIB;
  const guest = <u64>guestMemoryBase();
  if (guest > base) limit = guest; // a guest's linear memory above us is not ours
  const n = memoryRegionCount();
  for (let i = 0; i < n; i++) {
    if (memoryRegionType(i) != MemoryType.RAM) continue;
    const start = memoryRegionBase(i);
    addRange(start, start + memoryRegionLength(i), base, limit);
  }
  if (n == 0) addRange(base, limit, base, limit); // no map: memory.grow is the judge
  current = 0;
  bump = rangeCount > 0 ? rangeStart(0) : 0;
}

/** Makes memory.size cover [0, end). False when the module may not grow that far. */
function commit(end: u64): bool {
  const have = <u64>memory.size() << WASM_PAGE_SHIFT;
  if (end <= have) return true;
  const need = (end - have + 0xffff) >> WASM_PAGE_SHIFT;
  return memory.grow(<i32>need) >= 0;
}

/**
 * `n` contiguous zero-or-garbage pages (contents undefined), page-aligned; 0 when RAM is exhausted.
 */
export function allocPages(n: u32): usize {
  pagesInit();
  if (n == 0) return 0;
  if (n == 1 && freeList != 0) {
    const page = freeList;
    freeList = load<usize>(page);
    freeListPages--;
    usedPages++;
    return page;
  }
  const bytes = <u64>n << PAGE_SHIFT;
  while (current < rangeCount) {
    if (bump + bytes <= rangeEnd(current)) {
      if (!commit(bump + bytes)) return 0;
      const page = <usize>bump;
      bump += bytes;
      usedPages += n;
      return page;
    }
    // The tail of this range is too small for the run: move on (the tail stays usable for
    // nothing; ranges are few and runs small, so the loss is small and counted as used).
    usedPages += (rangeEnd(current) - bump) >> PAGE_SHIFT;
    current++;
    if (current < rangeCount) bump = rangeStart(current);
  }
  return 0;
}

/** Returns `n` pages starting at `addr` (from allocPages). */
export function freePages(addr: usize, n: u32): void {
  for (let i: u32 = 0; i < n; i++) {
    const page = addr + (<usize>i << <usize>PAGE_SHIFT);
    store<usize>(page, freeList);
    freeList = page;
  }
  freeListPages += n;
  usedPages -= n;
}

/** Pages of usable RAM this allocator manages. */
export function pagesTotal(): u64 { return totalPages; }
/** Pages handed out and not returned. */
export function pagesUsed(): u64 { return usedPages; }
/** Pages on the free list (returned, reusable one at a time). */
export function pagesFreeListed(): u64 { return freeListPages; }
/** True once the memory map was read (first allocation). */
export function pagesReady(): bool { return ready; }
/** Number of usable-RAM ranges found (for tests). */
export function pageRangeCount(): i32 { pagesInit(); return rangeCount; }
/** Start of range i. */
export function pageRangeStart(i: i32): u64 { return rangeStart(i); }
/** End (exclusive) of range i. */
export function pageRangeEnd(i: i32): u64 { return rangeEnd(i); }
