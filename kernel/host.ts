// Host functions for a sandboxed guest module (`npm run wasm`): env.abort, env.trace, env.seed.
//
// The linker binds the guest's imports to these kernel exports (tools/link/ABI.md "Host imports of
// a guest module"). Pointers are guest addresses: the kernel adds image.guestMemoryBase(). An
// AssemblyScript string at guest address p has its byte length as u32 at p-4 and UTF-16LE at p.
// Numbers are printed like JavaScript's String(number), using integer arithmetic only
// (kernel/numfmt.ts).

import { exit, EXIT_ABORT } from "./arch/x86_64/debug_exit";
import { guestMemoryBase, guestMemoryBytes } from "./arch/x86_64/image";
import { rdtsc } from "./arch/x86_64/intrinsics";
import { freshLine, newline, print, printU32, printUtf16 } from "./console";
import { entropyCredited, entropySeed64 } from "./entropy";
import { printF64Bits } from "./numfmt";

/** Prints the guest string at guest address `p`: "null" for 0, "<bad string>" if out of bounds. */
export function printGuestString(p: u32): void {
  if (p == 0) {
    print("null");
    return;
  }
  const size = <u64>guestMemoryBytes();
  if (p < 4 || <u64>p > size) {
    print("<bad string>");
    return;
  }
  const base = <u64>guestMemoryBase();
  const byteLen = <u64>load<u32>(<usize>(base + <u64>p - 4));
  if (<u64>p + byteLen > size || base + <u64>p + byteLen > 0xffff_ffff) {
    print("<bad string>");
    return;
  }
  printUtf16(<usize>(base + <u64>p), <usize>byteLen);
}

/** Guest `env.abort`: "abort: <msg> at <file>:<line>:<col>", exit status 1. */
export function __host_abort(msg: u32, file: u32, line: u32, col: u32): void {
  freshLine();
  print("abort: ");
  printGuestString(msg);
  print(" at ");
  printGuestString(file);
  print(":");
  printU32(line);
  print(":");
  printU32(col);
  newline();
  exit(EXIT_ABORT);
}

/** Guest `env.trace`: the message and the first n (0..5) numbers, separated by spaces. */
export function __host_trace(msg: u32, n: i32, a0: f64, a1: f64, a2: f64, a3: f64, a4: f64): void {
  freshLine();
  printGuestString(msg);
  if (n > 0) { print(" "); printF64Bits(reinterpret<u64>(a0)); }
  if (n > 1) { print(" "); printF64Bits(reinterpret<u64>(a1)); }
  if (n > 2) { print(" "); printF64Bits(reinterpret<u64>(a2)); }
  if (n > 3) { print(" "); printF64Bits(reinterpret<u64>(a3)); }
  if (n > 4) { print(" "); printF64Bits(reinterpret<u64>(a4)); }
  newline();
}

/**
 * Guest `env.seed`: a positive finite number in [2^40, 2^41) (the magnitude of Date.now() that
 * JS hosts mix in), its 52 fraction bits from the kernel's entropy pool (kernel/entropy.ts: fed by
 * virtio-rng when a driver attached one) xor the TSC, through splitmix64. Without credited entropy
 * only the TSC counts. Built from bits: no float arithmetic.
 */
export function __host_seed(): f64 {
  // splitmix64 finaliser (after: Steele, Lea, Flood, "Fast splittable PRNGs", 2014)
  let z = rdtsc() + 0x9e3779b97f4a7c15;
  if (entropyCredited() > 0) z ^= entropySeed64();
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
  z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
  z = z ^ (z >> 31);
  const exponent: u64 = 1023 + 40;
  return reinterpret<f64>((exponent << 52) | (z & 0x000f_ffff_ffff_ffff));
}
