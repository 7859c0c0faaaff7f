// In-guest self test of the heap and the pools: random allocate/free with content checks.
//
// heapStress(ops, seed): `ops` operations on a table of SLOTS slots, each op picks a random slot:
// empty -> allocate a random size (mostly small, some up to 8 KiB) and fill it with a pattern
// derived from its address and size; full -> verify the pattern, then free. Afterwards every slot is
// freed and the accounting must close: bytes in use back to what the kernel held before the test,
// heapCheck() consistent, and the free lists holding exactly the heap size minus that. Prints `name ... [ok]` lines and one figure line:
//   `heap bench: <ops> ops in <us> us = <n> ops/s`
// Randomness: xorshift32 (after: G. Marsaglia, "Xorshift RNGs", J. Stat. Software 8(14), 2003).

import { print, printU32, printU64, newline } from "../console";
import { readTsc, ticksToMicros, tscFrequencyHz } from "../arch/x86_64/tsc";
import {
  heapAlloc, heapFree, heapBlockSize, heapCheck, heapCheckedFreeBytes, heapBytesInUse, heapTotalBytes,
  heapAllocations, heapFrees, zeroWords,
} from "./heap";
import { allocPages, freePages, PAGE_SIZE } from "./pages";
import { createPool } from "./pool";

/** Slots of the random-op table (live blocks at most). */
@inline const SLOTS: u32 = 4096;

let rng: u32 = 1;
@inline function next(): u32 {
  let x = rng;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  rng = x;
  return x;
}

/** 85% 1..128 B, 13% 129..1024 B, 2% 1025..8192 B. */
function randomSize(): usize {
  const r = next();
  const pick = r % 100;
  const v = <usize>(next() >> 8);
  if (pick < 85) return 1 + v % 128;
  if (pick < 98) return 129 + v % 896;
  return 1025 + v % 7168;
}

@inline function pattern(p: usize, size: usize, i: usize): u32 {
  return <u32>(p ^ (size << 20) ^ (i * 0x9e3779b1));
}

function fill(p: usize, size: usize): void {
  const words = size >> 2;
  for (let i: usize = 0; i < words; i++) store<u32>(p + (i << 2), pattern(p, size, i));
  for (let i = words << 2; i < size; i++) store<u8>(p + i, <u8>pattern(p, size, i));
}

function verify(p: usize, size: usize): bool {
  const words = size >> 2;
  for (let i: usize = 0; i < words; i++) if (load<u32>(p + (i << 2)) != pattern(p, size, i)) return false;
  for (let i = words << 2; i < size; i++) if (load<u8>(p + i) != <u8>pattern(p, size, i)) return false;
  return true;
}

function ok(name: string): void {
  print(name);
  print(" ... [ok]");
  newline();
}

function failed(name: string, what: string, at: u64): bool {
  print(name);
  print(" ... [FAILED] ");
  print(what);
  print(" at op ");
  printU64(at);
  newline();
  return false;
}

/** Runs the heap stress; true when every check passed. */
export function heapStress(ops: u32, seed: u32): bool {
  rng = seed | 1;
  const name = "heap stress: random alloc/free with content checks";
  const tablePages = <u32>((<usize>SLOTS * 8 + PAGE_SIZE - 1) / PAGE_SIZE);
  const table = allocPages(tablePages); // slot i: u32 ptr at 8i, u32 size at 8i + 4
  if (table == 0) return failed(name, "no pages for the slot table", 0);
  zeroWords(table, <usize>tablePages * PAGE_SIZE);
  const allocs0 = heapAllocations(), frees0 = heapFrees();
  const inUse0 = heapBytesInUse(); // what the kernel itself holds (start-up objects)
  const t0 = readTsc();
  for (let op: u32 = 0; op < ops; op++) {
    const slot = table + (<usize>(next() % SLOTS) << 3);
    const p = <usize>load<u32>(slot);
    if (p != 0) {
      const size = <usize>load<u32>(slot, 4);
      if (!verify(p, size)) return failed(name, "content mismatch", op);
      heapFree(p);
      store<u32>(slot, 0);
    } else {
      const size = randomSize();
      const q = heapAlloc(size);
      if (q == 0) return failed(name, "out of memory", op);
      if ((q & 15) != 0 || heapBlockSize(q) < size) return failed(name, "bad block", op);
      fill(q, size);
      store<u32>(slot, <u32>q);
      store<u32>(slot, <u32>size, 4);
    }
  }
  const ticks = readTsc() - t0;
  // Drain: verify and free every live block.
  for (let i: u32 = 0; i < SLOTS; i++) {
    const slot = table + (<usize>i << 3);
    const p = <usize>load<u32>(slot);
    if (p == 0) continue;
    if (!verify(p, <usize>load<u32>(slot, 4))) return failed(name, "content mismatch in drain", ops);
    heapFree(p);
  }
  freePages(table, tablePages);
  print("heap stress: ");
  printU64(heapAllocations() - allocs0);
  print(" allocs + ");
  printU64(heapFrees() - frees0);
  print(" frees, ");
  printU32(ops);
  print(" random ops");
  newline();
  ok(name);

  const acct = "heap accounting: every byte back, free lists + kernel's own == heap size";
  const code = heapCheck();
  if (code != 0) return failed(acct, "heapCheck code", <u64>code);
  if (heapBytesInUse() != inUse0) return failed(acct, "bytes still in use", heapBytesInUse() - inUse0);
  if (heapCheckedFreeBytes() + inUse0 != heapTotalBytes()) return failed(acct, "free lists + in use != heap size", heapCheckedFreeBytes());
  print("heap: ");
  printU64(heapTotalBytes());
  print(" B heap = ");
  printU64(heapCheckedFreeBytes());
  print(" B on free lists + ");
  printU64(inUse0);
  print(" B held by the kernel since before the test; stress bytes in use: ");
  printU64(heapBytesInUse() - inUse0);
  newline();
  ok(acct);

  const us = ticksToMicros(ticks);
  const hz = tscFrequencyHz();
  print("heap bench: ");
  printU32(ops);
  print(" ops in ");
  printU64(us);
  print(" us = ");
  printU64(ticks > 0 ? <u64>ops * hz / ticks : 0);
  print(" ops/s");
  newline();
  return true;
}

/** Random alloc/free on a pool of `count` buffers of `size` bytes; checks occupancy and contents. */
export function poolStress(ops: u32, seed: u32, size: u32, count: u32): bool {
  rng = seed | 1;
  const name = "pool stress: random alloc/free, occupancy and double-free bitmap";
  const pool = createPool(size, count);
  if (pool === null) return failed(name, "no pages for the pool", 0);
  const table = heapAlloc(<usize>count * 4);
  if (table == 0) return failed(name, "no heap for the table", 0);
  zeroWords(table, <usize>count * 4);
  let live: u32 = 0;
  for (let op: u32 = 0; op < ops; op++) {
    const slot = table + (<usize>(next() % count) << 2);
    const b = <usize>load<u32>(slot);
    if (b != 0) {
      if (load<u32>(b) != <u32>b || load<u32>(b + size - 4) != ~<u32>b) return failed(name, "content mismatch", op);
      if (!pool.owns(b)) return failed(name, "owns() false for a live buffer", op);
      pool.free(b);
      store<u32>(slot, 0);
      live--;
    } else {
      const nb = pool.alloc();
      if (nb == 0) return failed(name, "pool empty while slots are free", op);
      store<u32>(nb, <u32>nb);
      store<u32>(nb + size - 4, ~<u32>nb);
      store<u32>(slot, <u32>nb);
      live++;
    }
    if (pool.inUse != live) return failed(name, "inUse counter wrong", op);
  }
  // Exhaust the pool: alloc() must fail exactly at capacity.
  let extra: u32 = 0;
  while (pool.alloc() != 0) extra++;
  if (live + extra != count || pool.failures != 1) return failed(name, "capacity wrong", ops);
  if (pool.countFree() != 0) return failed(name, "free list not empty when full", ops);
  heapFree(table);
  ok(name);
  return true;
}
