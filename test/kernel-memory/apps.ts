/**
 * Kernel apps for the memory tests (AssemblyScript as strings; see image.ts). Each should-panic case
 * is its own image.
 */
import { KERNEL } from "./image.ts";

/** Heap and pool stress: >= 1,000,000 random heap ops with content checks, then accounting. */
export const STRESS_OPS = 1_000_000;
export const stressApp = (ops = STRESS_OPS, seed = 0x2545f491) => String.raw`// In-guest heap/pool stress.
import { heapStress, poolStress } from "${KERNEL}/runtime/stress";
import { exit } from "${KERNEL}/arch/x86_64/debug_exit";

export function main(): void {
  if (!heapStress(${ops}, ${seed})) exit(1);
  if (!poolStress(200000, ${seed}, 2048, 512)) exit(1);
}
`;

/**
 * Should-panic cases, chosen by the kernel command line (PVH `-append <case>`), so one compile
 * serves every case; each boot is still its own VM run ending in its own panic screen.
 *   null        load from address 0                       -> #PF not present, cr2 0
 *   write-text  store into the image's text               -> #PF protection, write
 *   write-rodata store into the symbol table (rodata)     -> #PF protection, write
 *   exec-data   call into a static data buffer            -> #PF protection, fetch
 *   exec-heap   call into a heap block                    -> #PF protection, fetch
 *   recursion   unbounded recursion                       -> trap 10, call stack exhausted
 *   guard       recursion with the stack limit disabled   -> #PF in the guard page (IST stack)
 */
export const PANIC_CASES = ["null", "write-text", "write-rodata", "exec-data", "exec-heap", "recursion", "guard"] as const;
export const panicApp = String.raw`// Should-panic cases selected by the command line.
import { cmdlineAddress, cmdlineLength } from "${KERNEL}/bootinfo";
import { symbolTableAddress, stackLimit } from "${KERNEL}/arch/x86_64/image";
import { callAddress } from "${KERNEL}/arch/x86_64/testing";
import { heapAlloc } from "${KERNEL}/runtime/index";
import { print, printHex, newline } from "${KERNEL}/console";

const dataBuffer = memory.data(64);
let depth: u32 = 0;

function is(name: string): bool {
  const p = cmdlineAddress();
  const n = cmdlineLength();
  if (n != <usize>name.length) return false;
  for (let i: usize = 0; i < n; i++) if (<u32>load<u8>(p + i) != <u32>name.charCodeAt(<i32>i)) return false;
  return true;
}

function down(n: u32): u32 {
  depth = n;
  if (n == 0xffff_ffff) return 0;
  return down(n + 1) + (n & 1);
}

export function main(): void {
  let x: u32 = 0;
  if (is("null")) {
    x = load<u32>(0);
  } else if (is("write-text")) {
    const textAddr = <usize>load<u32>(symbolTableAddress(), 8); // first symbol's start: in text
    store<u32>(textAddr, 0xcccccccc);
  } else if (is("write-rodata")) {
    store<u32>(symbolTableAddress(), 0);
  } else if (is("exec-data")) {
    store<u8>(dataBuffer, 0xc3); // ret: without NX the call would simply return
    callAddress(<u64>dataBuffer);
  } else if (is("exec-heap")) {
    const p = heapAlloc(64);
    store<u8>(p, 0xc3);
    callAddress(<u64>p);
  } else if (is("recursion")) {
    x = down(1);
  } else if (is("guard")) {
    store<u64>(stackLimit(), 0); // disable the prologue check: the guard page must stop us
    x = down(1);
  } else {
    print("unknown case");
    newline();
    return;
  }
  print("survived: 0x");
  printHex(<u64>x);
  newline();
}
`;
