// kernel/runtime/: the kernel's own memory management and AssemblyScript runtime.
//
// Three layers, each usable on its own:
//   pages.ts    physical 4 KiB pages of usable RAM from the firmware memory map (bootinfo.ts),
//               above the kernel module's static data; wasm address = physical address.
//   heap.ts     TLSF general heap (O(1) alloc/free, coalescing) for start-up and control-plane
//               objects; backs asc's `new` through globals.ts (asc --runtime kernel/runtime/rt).
//   pool.ts     fixed-size buffer pools (power-of-two buffers, O(1) alloc/free, double-free check)
//               for packet buffers: the packet path never touches the heap.
// stress.ts is the in-guest self test (random alloc/free with content checks).
//
// Imports: bootinfo.ts, console.ts, arch/x86_64 only. Nothing here may allocate while printing
// (printMemoryStats runs on the panic screen).
//
// Counters (all monotonic except "in use"), readable at run time and printed on the panic screen:
//   heap: allocations, frees, bytes in use (header + payload), peak, heap size
//   pages: used / total
//   pools: buffer size, in use / capacity, peak, allocations, frees, failures

import { print, printU32, printU64, newline } from "../console";
import {
  heapAllocations, heapFrees, heapBytesInUse, heapPeakBytesInUse, heapTotalBytes, heapReady,
} from "./heap";
import { pagesReady, pagesTotal, pagesUsed } from "./pages";
import { poolsCount, poolAt } from "./pool";

export {
  heapAlloc, heapFree, heapRealloc, heapBlockSize, heapCheck, heapCheckedFreeBytes, heapCheckedFreeBlocks,
  heapAllocations, heapFrees, heapBytesInUse, heapPeakBytesInUse, heapTotalBytes, heapReady,
} from "./heap";
export { allocPages, freePages, pagesTotal, pagesUsed, pagesFreeListed, pageRangeCount, pageRangeStart, pageRangeEnd, PAGE_SIZE } from "./pages";
export { BufferPool, createPool, poolsCount, poolAt, MAX_POOLS } from "./pool";

/** True once anything was allocated (the memory map has been read). */
export function runtimeInUse(): bool {
  return pagesReady();
}

/**
 * One or more lines, allocation-free:
 * `  memory: heap 12/3 allocs/frees, 4096 B used (peak 8192) of 65488 B, pages 20/32000`
 * `  pool 2048 B: 3/512 used (peak 9), 100/97 allocs/frees, 0 fails`
 */
export function printMemoryStats(): void {
  print("  memory: heap ");
  printU64(heapReady() ? heapAllocations() : 0);
  print("/");
  printU64(heapFrees());
  print(" allocs/frees, ");
  printU64(heapBytesInUse());
  print(" B used (peak ");
  printU64(heapPeakBytesInUse());
  print(") of ");
  printU64(heapTotalBytes());
  print(" B, pages ");
  printU64(pagesUsed());
  print("/");
  printU64(pagesTotal());
  newline();
  const n = poolsCount();
  for (let i = 0; i < n; i++) {
    const p = poolAt(i);
    print("  pool ");
    printU32(p.bufferSize);
    print(" B: ");
    printU32(p.inUse);
    print("/");
    printU32(p.capacity);
    print(" used (peak ");
    printU32(p.peakInUse);
    print("), ");
    printU64(p.allocations);
    print("/");
    printU64(p.frees);
    print(" allocs/frees, ");
    printU64(p.failures);
    print(" fails");
    newline();
  }
}
