// Panic screen: wasm traps, CPU exceptions and abort(), each ending the VM with its exit status.
//
// Entry points (tools/link/ABI.md "Traps"):
//  - `__trap(kind, pc, fp)`: called by the image's trap stubs. pc = return address - 1 inside the
//    trapping function, fp = its rbp. Prints
//        trap: <WebAssembly spec wording>             (kinds 1-10, exit status 2)
//        panic: CPU exception <v> <name> at 0x<pc>    (kind 32+v, exit status 4)
//          fault address (cr2): 0x<addr>              (#PF)
//          error code: 0x<code> (<decoded for #PF>)   (vectors that push one; boot info +40)
//    then one line per frame:   "  at <name>+0x<offset> (0x<address>)"
//    starting with pc, then walking the rbp chain ([fp] = caller's rbp, [fp+8] = return address).
//    Caller frames show return address - 1 (inside the call instruction, like the trap pc), so
//    the name is the caller's even when the call is the function's last instruction.
//    Then, once the kernel runtime has allocated anything, its counters (kernel/runtime/index.ts
//    printMemoryStats): "  memory: heap <n> allocs, <n> frees, <n> B in use ...", one line per pool.
//  - `abort(msg, file, line, col)`: AssemblyScript's abort, aliased here with
//    `asc --use abort=kernel/panic/abort`. Prints "abort: <msg> at <file>:<line>:<col>", status 1.
//
// A trap while the panic screen is printing (e.g. a corrupt frame chain) must not recurse: the
// second entry prints one line and exits at once.

import { exit, EXIT_ABORT, EXIT_TRAP, EXIT_PANIC } from "./arch/x86_64/debug_exit";
import { bootInfoAddress, symbolTableAddress } from "./arch/x86_64/image";
import { readCr2 } from "./arch/x86_64/intrinsics";
import { freshLine, newline, print, printHex, printU32, printUtf8 } from "./console";
import { printMemoryStats, runtimeInUse } from "./runtime/index";

/** Frames printed at most (the trapping pc counts as one). */
@inline const MAX_FRAMES = 64;
/** First kind number used for CPU exception vectors. */
@inline export const TRAP_CPU_EXCEPTION_BASE = 32;
/** CPU exception vector of a page fault (CR2 holds the faulting address). */
@inline const VECTOR_PAGE_FAULT = 14;
/** Boot info +40: error code of the exception being reported (tools/link/ABI.md "Boot info"). */
@inline const BOOT_INFO_ERROR_CODE: usize = 40;
// #PF error code bits (Intel SDM Vol. 3A §4.7, Figure 4-12).
@inline const PF_PRESENT: u64 = 1 << 0; // 0 = page not present, 1 = protection violation
@inline const PF_WRITE: u64 = 1 << 1;
@inline const PF_USER: u64 = 1 << 2;
@inline const PF_RESERVED: u64 = 1 << 3;
@inline const PF_FETCH: u64 = 1 << 4;

// Symbol table layout (tools/link/ABI.md): +0 u32 function count, +4 u32 inlined-range count,
// +8 the function entries, then the inlined-range entries, 16 bytes each.
@inline const SYMTAB_INLINED: usize = 4;
@inline const SYMTAB_ENTRIES: usize = 8;
@inline const SYM_SIZE: usize = 16;
@inline const SYM_START = 0;
@inline const SYM_END = 4;
@inline const SYM_NAME_ADDR = 8;
@inline const SYM_NAME_LEN = 12;

let panicking = false;

/** Text of a wasm trap kind, exactly as in ABI.md (WebAssembly spec wording). */
export function trapKindText(kind: i32): string {
  switch (kind) {
    case 1: return "unreachable";
    case 2: return "integer divide by zero";
    case 3: return "integer overflow";
    case 4: return "invalid conversion to integer";
    case 5: return "out of bounds memory access";
    case 6: return "out of bounds table access";
    case 7: return "indirect call type mismatch";
    case 8: return "undefined element";
    case 9: return "uninitialized element";
    case 10: return "call stack exhausted";
    default: return "unknown trap";
  }
}

/** Name of an x86 exception vector (Intel SDM Vol. 3A, table 6-1). */
export function exceptionName(vector: i32): string {
  switch (vector) {
    case 0: return "#DE divide error";
    case 1: return "#DB debug";
    case 2: return "NMI";
    case 3: return "#BP breakpoint";
    case 4: return "#OF overflow";
    case 5: return "#BR bound range exceeded";
    case 6: return "#UD invalid opcode";
    case 7: return "#NM device not available";
    case 8: return "#DF double fault";
    case 9: return "coprocessor segment overrun";
    case 10: return "#TS invalid TSS";
    case 11: return "#NP segment not present";
    case 12: return "#SS stack-segment fault";
    case 13: return "#GP general protection fault";
    case 14: return "#PF page fault";
    case 16: return "#MF x87 floating-point error";
    case 17: return "#AC alignment check";
    case 18: return "#MC machine check";
    case 19: return "#XM SIMD floating-point exception";
    case 20: return "#VE virtualization exception";
    case 21: return "#CP control protection exception";
    case 28: return "#HV hypervisor injection";
    case 29: return "#VC VMM communication";
    case 30: return "#SX security exception";
    default: return "reserved";
  }
}

/**
 * Index of the entry whose [start, end) holds `addr` among `count` entries from `first`, or -1.
 * Binary search: entries are sorted by start and do not overlap.
 */
function searchRanges(first: usize, count: i32, addr: u64): i32 {
  if (addr > 0xffff_ffff) return -1;
  const a = <u32>addr;
  let lo: i32 = 0;
  let hi: i32 = count - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const sym = first + <usize>mid * SYM_SIZE;
    if (a < load<u32>(sym, SYM_START)) {
      hi = mid - 1;
    } else if (a >= load<u32>(sym, SYM_END)) {
      lo = mid + 1;
    } else {
      return mid;
    }
  }
  return -1;
}

/** Index of the function whose code holds `addr`, or -1. */
export function findSymbol(addr: u64): i32 {
  const table = symbolTableAddress();
  if (table == 0) return -1;
  return searchRanges(table + SYMTAB_ENTRIES, <i32>load<u32>(table), addr);
}

/** Prints one symbol entry's name and `addr`'s offset from its start: "<name>+0x<offset>". */
function printSymbolOffset(sym: usize, addr: u64): void {
  printUtf8(<usize>load<u32>(sym, SYM_NAME_ADDR), <usize>load<u32>(sym, SYM_NAME_LEN));
  print("+0x");
  printHex(addr - <u64>load<u32>(sym, SYM_START));
}

/**
 * Prints "  at <name>+0x<offset> (0x<address>)", or "  at ?? (0x<address>)" when unknown. Code of a
 * function inlined into another (tools/translate/inline.ts) prints two lines: first
 * "  at <inlined>+0x<offset> [inlined] (0x<address>)", then the function it was inlined into.
 */
export function printFrame(addr: u64): void {
  const table = symbolTableAddress();
  const i = findSymbol(addr);
  if (i >= 0) {
    const functions = <usize>load<u32>(table);
    const inlinedFirst = table + SYMTAB_ENTRIES + functions * SYM_SIZE;
    const k = searchRanges(inlinedFirst, <i32>load<u32>(table, SYMTAB_INLINED), addr);
    if (k >= 0) {
      print("  at ");
      printSymbolOffset(inlinedFirst + <usize>k * SYM_SIZE, addr);
      print(" [inlined] (0x");
      printHex(addr);
      print(")");
      newline();
    }
  }
  print("  at ");
  if (i >= 0) printSymbolOffset(table + SYMTAB_ENTRIES + <usize>i * SYM_SIZE, addr);
  else print("??");
  print(" (0x");
  printHex(addr);
  print(")");
  newline();
}

/**
 * Prints the backtrace: `pc` first, then each caller found through the rbp chain. Stops at a null
 * frame pointer, after MAX_FRAMES lines, or at a frame pointer that is misaligned, above 4 GiB or
 * not above the previous one (the stack grows down, so callers' frames lie at higher addresses).
 */
export function printBacktrace(pc: u64, fp: u64): void {
  printFrame(pc);
  let frames = 1;
  while (fp != 0 && frames < MAX_FRAMES) {
    if ((fp & 7) != 0 || fp > 0xffff_fff0) break;
    const ret = load<u64>(<usize>fp, 8);
    const next = load<u64>(<usize>fp);
    if (ret == 0) break;
    printFrame(ret - 1);
    frames++;
    if (next != 0 && next <= fp) break;
    fp = next;
  }
}

/** Vectors for which the CPU pushes an error code (SDM Vol. 3A Table 6-1). */
function hasErrorCode(vector: i32): bool {
  return vector == 8 || (vector >= 10 && vector <= 14) || vector == 17 || vector == 21 || vector == 29 || vector == 30;
}

/** "  error code: 0x<hex>", decoded for #PF: "(not present|protection, read|write|fetch, kernel|user[, reserved bit])". */
function printErrorCode(vector: i32, code: u64): void {
  print("  error code: 0x");
  printHex(code);
  if (vector == VECTOR_PAGE_FAULT) {
    print((code & PF_PRESENT) != 0 ? " (protection, " : " (not present, ");
    print((code & PF_FETCH) != 0 ? "fetch, " : (code & PF_WRITE) != 0 ? "write, " : "read, ");
    print((code & PF_USER) != 0 ? "user" : "kernel");
    if ((code & PF_RESERVED) != 0) print(", reserved bit");
    print(")");
  }
  newline();
}

/** The kernel's trap handler, exported from the entry module as `__trap`. */
export function __trap(kind: i32, pc: u64, fp: u64): void {
  if (panicking) {
    freshLine();
    print("panic: nested trap ");
    printU32(<u32>kind);
    print(" while printing a panic screen");
    newline();
    exit(kind >= TRAP_CPU_EXCEPTION_BASE ? EXIT_PANIC : EXIT_TRAP);
    return;
  }
  panicking = true;
  freshLine();
  if (kind >= TRAP_CPU_EXCEPTION_BASE) {
    const vector = kind - TRAP_CPU_EXCEPTION_BASE;
    print("panic: CPU exception ");
    printU32(<u32>vector);
    print(" ");
    print(exceptionName(vector));
    print(" at 0x");
    printHex(pc);
    newline();
    if (vector == VECTOR_PAGE_FAULT) {
      print("  fault address (cr2): 0x");
      printHex(readCr2());
      newline();
    }
    if (hasErrorCode(vector)) printErrorCode(vector, load<u64>(bootInfoAddress(), BOOT_INFO_ERROR_CODE));
  } else {
    print("trap: ");
    print(trapKindText(kind));
    if (kind < 1 || kind > 10) {
      print(" ");
      printU32(<u32>kind);
    }
    newline();
  }
  printBacktrace(pc, fp);
  // Allocator counters (kernel/runtime), once anything was allocated: leaks and exhaustion show here.
  if (runtimeInUse()) printMemoryStats();
  exit(kind >= TRAP_CPU_EXCEPTION_BASE ? EXIT_PANIC : EXIT_TRAP);
}

/** Prints an AssemblyScript string, or "null". */
function printNullable(s: string | null): void {
  if (s === null) print("null");
  else print(s);
}

/** AssemblyScript's abort(), routed here by `--use abort=kernel/panic/abort`. */
export function abort(msg: string | null = null, file: string | null = null, line: u32 = 0, col: u32 = 0): void {
  freshLine();
  print("abort: ");
  printNullable(msg);
  print(" at ");
  printNullable(file);
  putLineCol(line, col);
  newline();
  exit(EXIT_ABORT);
}

/** Prints ":<line>:<col>". */
export function putLineCol(line: u32, col: u32): void {
  print(":");
  printU32(line);
  print(":");
  printU32(col);
}
