// The kernel's AssemblyScript runtime: what `asc --runtime kernel/runtime/rt` links in place of
// asc's stub / TLSF+GC runtimes (tools/build/compile.ts).
//
// Contract (after node_modules/assemblyscript/std/assembly/rt/stub.ts and rt/index.d.ts): global
// __alloc/__realloc/__free for raw memory and __new/__renew for managed objects, whose 16-byte
// header (rt/common.ts OBJECT: gcInfo, gcInfo2, rtId, rtSize) directly precedes the object; __link,
// __pin, __unpin, __visit, __collect are the GC hooks. There is no garbage collector: objects made
// with `new` are control-plane objects made at start-up and kept; the packet path uses pools.
//
// asc parses rt.ts (which imports this file) as an extra entry; exports of an entry would become
// module exports, hence the indirection. Everything here is @global.

import { heapAlloc, heapFree, heapRealloc, BLOCK_MAXSIZE } from "./heap";

/** asc's object header after the block header: gcInfo, gcInfo2, rtId, rtSize (rt/common.ts). */
// @ts-ignore: decorator
@inline const OBJECT_OVERHEAD: usize = 16;
// @ts-ignore: decorator
@inline const OBJECT_MAXSIZE: usize = BLOCK_MAXSIZE - OBJECT_OVERHEAD;

// @ts-ignore: decorator
@unsafe @global
export function __alloc(size: usize): usize {
  const p = heapAlloc(size);
  if (p == 0) abort("out of memory");
  return p;
}

// @ts-ignore: decorator
@unsafe @global
export function __realloc(ptr: usize, size: usize): usize {
  const p = heapRealloc(ptr, size);
  if (p == 0) abort("out of memory");
  return p;
}

// @ts-ignore: decorator
@unsafe @global
export function __free(ptr: usize): void {
  heapFree(ptr);
}

// @ts-ignore: decorator
@unsafe @global
export function __reset(): void {
  abort("no heap.reset");
}

// @ts-ignore: decorator
@unsafe @global
export function __new(size: usize, id: u32): usize {
  if (size > OBJECT_MAXSIZE) abort("too large");
  const p = heapAlloc(OBJECT_OVERHEAD + size);
  if (p == 0) abort("out of memory");
  store<u32>(p, 0, 0); // gcInfo
  store<u32>(p, 0, 4); // gcInfo2
  store<u32>(p, id, 8); // rtId
  store<u32>(p, <u32>size, 12); // rtSize
  return p + OBJECT_OVERHEAD;
}

// @ts-ignore: decorator
@unsafe @global
export function __renew(oldPtr: usize, size: usize): usize {
  if (size > OBJECT_MAXSIZE) abort("too large");
  const p = heapRealloc(oldPtr - OBJECT_OVERHEAD, OBJECT_OVERHEAD + size);
  if (p == 0) abort("out of memory");
  store<u32>(p, <u32>size, 12); // rtSize
  return p + OBJECT_OVERHEAD;
}

// @ts-ignore: decorator
@global @unsafe
export function __link(parentPtr: usize, childPtr: usize, expectMultiple: bool): void {
  // no GC: nothing to record
}

// @ts-ignore: decorator
@global @unsafe
export function __pin(ptr: usize): usize {
  return ptr;
}

// @ts-ignore: decorator
@global @unsafe
export function __unpin(ptr: usize): void {
  // no GC: nothing is ever moved or collected
}

// @ts-ignore: decorator
@global @unsafe
function __visit(ptr: usize, cookie: u32): void { // eslint-disable-line @typescript-eslint/no-unused-vars
  // no GC
}

// @ts-ignore: decorator
@global @unsafe
export function __collect(): void {
  // no GC
}
