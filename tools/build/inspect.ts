/**
 * Checks on a compiled kernel module before it goes to the translator.
 *
 *  - `floatOperators(wasm)`: float instructions other than the ones that only move bits
 *    (f32/f64 const, load, store, reinterpret). While the translator supports integer operators
 *    only, a kernel module must return an empty list. Reads the wasm through wabt's text output.
 *  - `disallowedImports(wasm, allowGuest)`: imports other than the `x86.*` / `image.*`
 *    intrinsics of tools/link/ABI.md (and `guest.run` for the `npm run wasm` host).
 */
import wabtInit from "wabt";

/** Intrinsics of module `x86` (tools/link/ABI.md "Intrinsics"). */
export const X86_INTRINSICS = new Set([
  "outb", "outw", "outl", "inb", "inw", "inl", "rdtsc", "cpuid", "pause", "hlt", "cli", "sti",
  "mfence", "lfence", "sfence", "rdmsr", "wrmsr", "readCr2", "readCr3", "readFramePointer",
  "mmioRead8", "mmioRead16", "mmioRead32", "mmioRead64",
  "mmioWrite8", "mmioWrite16", "mmioWrite32", "mmioWrite64", "stiHlt", "xchg32",
]);

/** Intrinsics of module `image`. */
export const IMAGE_INTRINSICS = new Set([
  "bootInfo", "symbolTable", "stackTop", "stackLimit", "guestMemoryBase", "guestMemoryBytes", "interruptPending",
]);

/** Float instructions that only move bit patterns (allowed in the integer-only kernel). */
const BIT_MOVES = /^(f32|f64)\.(const|load|store)$|^(i32\.reinterpret_f32|i64\.reinterpret_f64|f32\.reinterpret_i32|f64\.reinterpret_i64)$/;
/** Any instruction that touches floats: f32.* / f64.*, conversions to integers, and f32x4/f64x2. */
const FLOATY = /^((?:f32|f64|f32x4|f64x2)\.[a-z0-9_]+|i(?:32|64)\.trunc(?:_sat)?_f(?:32|64)_[su]|i(?:32|64)\.reinterpret_f(?:32|64))$/;

let wabtPromise: ReturnType<typeof wabtInit> | undefined;

/** The module as flat wabt text (one instruction per line, names from the name section). */
export async function wasmToText(wasm: Uint8Array): Promise<string> {
  wabtPromise ??= wabtInit();
  const wabt = await wabtPromise;
  const mod = wabt.readWasm(wasm, { readDebugNames: true, bulk_memory: true, sign_extension: true, mutable_globals: true, sat_float_to_int: true });
  try {
    mod.applyNames();
    return mod.toText({ foldExprs: false, inlineExport: false });
  } finally {
    mod.destroy();
  }
}

/** Float operators that are arithmetic, comparisons or conversions, with their counts. */
export async function floatOperators(wasm: Uint8Array): Promise<Map<string, number>> {
  const text = await wasmToText(wasm);
  const found = new Map<string, number>();
  for (const line of text.split("\n")) {
    const trimmed = line.trim();
    // Skip type/param/import declarations: only instructions matter.
    if (trimmed.startsWith("(") || trimmed.startsWith(";;")) continue;
    // The instruction is the first token of the line (names and immediates follow it).
    const op = trimmed.split(/\s+/, 1)[0];
    if (!FLOATY.test(op) || BIT_MOVES.test(op)) continue;
    found.set(op, (found.get(op) ?? 0) + 1);
  }
  return found;
}

/** "module.name" of every import that is not an allowed intrinsic. */
export function disallowedImports(wasm: Uint8Array, allowGuest: boolean): string[] {
  const bad: string[] = [];
  for (const imp of WebAssembly.Module.imports(new WebAssembly.Module(new Uint8Array(wasm)))) {
    const ok =
      (imp.module === "x86" && X86_INTRINSICS.has(imp.name)) ||
      (imp.module === "image" && IMAGE_INTRINSICS.has(imp.name)) ||
      (allowGuest && imp.module === "guest" && imp.name === "run");
    if (!ok) bad.push(`${imp.module}.${imp.name}`);
  }
  return bad;
}
