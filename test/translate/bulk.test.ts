/**
 * memory.copy and memory.fill (tools/translate/bulk.ts routines behind function.ts's range checks)
 * against V8, on both targets: hosted (guarded memory) and bare metal (sandbox bounds checks).
 *
 * A wasm module sweeps every length 0..300 and some long ones over all 16 x 16 source/destination
 * misalignments, overlapping copies with the destination k = -72..72 bytes from the source, and
 * fills with several values at every misalignment. Each case first writes a pattern over the
 * destination and 64 bytes on either side, then hashes that window, so a byte written wrong,
 * missed or written outside the range changes the sweep's result. V8 runs the module to give the
 * expected results, and the spec driver (tools/spec/run.ts) checks them on our targets, together
 * with out-of-bounds ranges that must trap before writing anything and empty ranges at the very
 * end of memory that must not trap.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readModule } from "../../tools/wasm/reader.ts";
import { wasmHostLinuxModule, wasmHostModule } from "../../tools/link/build.ts";
import { runQemu } from "../../tools/qemu/runner.ts";
import { runSpecFile } from "../../tools/spec/run.ts";
import { watToWasm } from "./harness.ts";

const LENGTHS = [...Array.from({ length: 301 }, (_, n) => n), 511, 512, 513, 1000, 2047, 2048, 2049, 4095, 4096, 4097, 9999, 60000];
const MEMORY_BYTES = 2 * 65536;

/** Source region at SRC (long copies), destination at DST (64 bytes of margin before it); overlap at OVL. */
const MODULE = `(module
  (memory (export "mem") 2)
  ;; [at, at + 4 * ceil(len / 4)) := a pattern that depends on seed
  (func $pattern (param $at i32) (param $len i32) (param $seed i32) (local $i i32)
    (local.set $len (i32.add (local.get $at) (local.get $len)))
    (local.set $i (i32.mul (i32.add (local.get $seed) (i32.const 1)) (i32.const 0x9e3779b1)))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $at) (local.get $len)))
      (i32.store (local.get $at) (local.get $i))
      (local.set $i (i32.add (i32.mul (local.get $i) (i32.const 0x01000193)) (i32.const 0x2545f491)))
      (local.set $at (i32.add (local.get $at) (i32.const 4)))
      (br $l))))
  ;; hash of [at, at + 4 * ceil(len / 4)), folded into h
  (func $hash (export "hash") (param $h i32) (param $at i32) (param $len i32) (result i32)
    (local.set $len (i32.add (local.get $at) (local.get $len)))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $at) (local.get $len)))
      (local.set $h (i32.mul (i32.xor (i32.rotl (local.get $h) (i32.const 5)) (i32.load (local.get $at))) (i32.const 0x01000193)))
      (local.set $at (i32.add (local.get $at) (i32.const 4)))
      (br $l)))
    (local.get $h))
  (func (export "copy") (param i32 i32 i32) (memory.copy (local.get 0) (local.get 1) (local.get 2)))
  (func (export "fill") (param i32 i32 i32) (memory.fill (local.get 0) (local.get 1) (local.get 2)))
  (func (export "pattern") (param i32 i32 i32) (call $pattern (local.get 0) (local.get 1) (local.get 2)))

  ;; every source x destination misalignment, no overlap
  (func (export "sweep_copy") (param $n i32) (result i32) (local $s i32) (local $d i32) (local $h i32)
    (call $pattern (i32.const 0x1000) (i32.add (local.get $n) (i32.const 16)) (local.get $n))
    (loop $src
      (local.set $d (i32.const 0))
      (loop $dst
        (call $pattern (i32.const 0xffc0) (i32.add (local.get $n) (i32.const 144)) (i32.add (local.get $s) (i32.shl (local.get $d) (i32.const 4))))
        (memory.copy (i32.add (i32.const 0x10000) (local.get $d)) (i32.add (i32.const 0x1000) (local.get $s)) (local.get $n))
        (local.set $h (call $hash (local.get $h) (i32.const 0xffc0) (i32.add (local.get $n) (i32.const 144))))
        (br_if $dst (i32.lt_u (local.tee $d (i32.add (local.get $d) (i32.const 1))) (i32.const 16))))
      (br_if $src (i32.lt_u (local.tee $s (i32.add (local.get $s) (i32.const 1))) (i32.const 16))))
    (local.get $h))

  ;; destination = source + k for k = -72..72, the source at varying misalignments
  (func (export "sweep_overlap") (param $n i32) (result i32) (local $k i32) (local $base i32) (local $h i32)
    (local.set $k (i32.const -72))
    (loop $l
      (local.set $base (i32.add (i32.const 0x400) (i32.and (i32.add (local.get $n) (local.get $k)) (i32.const 15))))
      (call $pattern (i32.sub (local.get $base) (i32.const 144)) (i32.add (local.get $n) (i32.const 288)) (local.get $k))
      (memory.copy (i32.add (local.get $base) (local.get $k)) (local.get $base) (local.get $n))
      (local.set $h (call $hash (local.get $h) (i32.sub (local.get $base) (i32.const 144)) (i32.add (local.get $n) (i32.const 288))))
      (br_if $l (i32.le_s (local.tee $k (i32.add (local.get $k) (i32.const 1))) (i32.const 72))))
    (local.get $h))

  ;; every destination misalignment, values whose low byte is 0, 0x80, 0xff, 0x7f, 0x01, 0x5a
  (func (export "sweep_fill") (param $n i32) (result i32) (local $d i32) (local $v i32) (local $h i32)
    (loop $dst
      (local.set $v (i32.const 0))
      (loop $val
        (call $pattern (i32.const 0xffc0) (i32.add (local.get $n) (i32.const 144)) (i32.add (local.get $v) (i32.shl (local.get $d) (i32.const 3))))
        (memory.fill (i32.add (i32.const 0x10000) (local.get $d))
          (i32.load (i32.add (i32.const 0x80) (i32.shl (local.get $v) (i32.const 2)))) (local.get $n))
        (local.set $h (call $hash (local.get $h) (i32.const 0xffc0) (i32.add (local.get $n) (i32.const 144))))
        (br_if $val (i32.lt_u (local.tee $v (i32.add (local.get $v) (i32.const 1))) (i32.const 6))))
      (br_if $dst (i32.lt_u (local.tee $d (i32.add (local.get $d) (i32.const 1))) (i32.const 16))))
    (local.get $h))
  (data (i32.const 0x80) "\\00\\ff\\ff\\ff" "\\80\\00\\00\\00" "\\ff\\ff\\ff\\ff" "\\7f\\01\\00\\00" "\\01\\00\\00\\80" "\\5a\\5a\\00\\00"))`;

/** Out-of-bounds ranges (each must trap and leave memory as it was) and empty ones at the end (no trap). */
const END = MEMORY_BYTES;
const BOUNDS: { op: "copy" | "fill"; args: [number, number, number]; traps: boolean }[] = [
  { op: "copy", args: [END - 100, 0, 101], traps: true },
  { op: "copy", args: [0, END - 100, 101], traps: true },
  { op: "copy", args: [END - 40, END - 100, 60], traps: true }, // overlapping, the destination runs over
  { op: "copy", args: [END - 100, END - 40, 60], traps: true }, // overlapping, the source runs over
  { op: "copy", args: [END, 0, 1], traps: true },
  { op: "copy", args: [END + 1, 0, 0], traps: true },
  { op: "copy", args: [0, END + 1, 0], traps: true },
  { op: "copy", args: [-256, 0, 512], traps: true }, // destination + length wraps 32 bits
  { op: "copy", args: [16, 32, -1], traps: true },
  { op: "fill", args: [END - 7, 0xff, 8], traps: true },
  { op: "fill", args: [END - 64, 0x80, 65], traps: true },
  { op: "fill", args: [END + 1, 0, 0], traps: true },
  { op: "fill", args: [-16, 1, 32], traps: true },
  { op: "fill", args: [0, 0, -1], traps: true },
  { op: "copy", args: [END, END, 0], traps: false },
  { op: "copy", args: [END, 0, 0], traps: false },
  { op: "copy", args: [0, END, 0], traps: false },
  { op: "copy", args: [END - 100, END - 99, 99], traps: false },
  { op: "fill", args: [END, 0x55, 0], traps: false },
  { op: "fill", args: [END - 100, 0x55, 100], traps: false },
];

const i32 = (v: number) => `(i32.const ${v | 0})`;

/** The script: the module, each sweep's result as V8 computes it, the bounds cases. */
async function script(): Promise<{ wast: string; assertions: number }> {
  const wasm = await watToWasm(MODULE);
  const { instance } = (await WebAssembly.instantiate(wasm)) as unknown as WebAssembly.WebAssemblyInstantiatedSource;
  const x = instance.exports as Record<string, (...a: number[]) => number>;
  const lines: string[] = [MODULE];
  const check = (call: string, args: number[]) => lines.push(`(assert_return (invoke "${call}" ${args.map(i32).join(" ")}) ${i32(x[call](...args))})`);
  for (const n of LENGTHS) {
    check("sweep_copy", [n]);
    check("sweep_fill", [n]);
    if (n < 8192) check("sweep_overlap", [n]);
  }
  // Bounds: a pattern over the whole memory, then each case; the memory's hash must stay V8's.
  lines.push(`(invoke "pattern" ${i32(0)} ${i32(END)} ${i32(7)})`);
  x.pattern(0, END, 7);
  for (const c of BOUNDS) {
    if (c.traps) {
      expect(() => x[c.op](...c.args)).toThrow(/out of bounds/);
      lines.push(`(assert_trap (invoke "${c.op}" ${c.args.map(i32).join(" ")}) "out of bounds memory access")`);
    } else {
      x[c.op](...c.args);
      lines.push(`(assert_return (invoke "${c.op}" ${c.args.map(i32).join(" ")}))`);
    }
    check("hash", [0, 0, END]);
  }
  return { wast: lines.join("\n"), assertions: lines.length - 1 };
}

describe("memory.copy / memory.fill against V8: every length 0..300 and long ones, misalignments, overlap, bounds", () => {
  const dir = mkdtempSync(join(tmpdir(), "bulk-"));
  const file = join(dir, "bulk.wast");

  it("hosted target (guarded memory)", async () => {
    const { wast, assertions } = await script();
    writeFileSync(file, wast);
    const r = await runSpecFile(file, { kernel: readModule(await wasmHostLinuxModule()) });
    expect(r.failures).toEqual([]);
    expect(r.passed).toBe(assertions);
  }, 120_000);

  it("bare metal (sandbox bounds checks)", async () => {
    const { wast, assertions } = await script();
    writeFileSync(file, wast);
    const runMetal = async (elf: Uint8Array) => {
      const path = join(dir, "module.elf");
      writeFileSync(path, elf);
      const q = await runQemu({ kernel: path, machine: "microvm", memory: "512M", timeoutMs: 90_000 });
      return { stdout: q.serial, problem: q.timedOut ? "timeout" : q.status !== 0 ? `exit status ${q.status}` : "" };
    };
    const r = await runSpecFile(file, { kernel: readModule(await wasmHostModule()), target: "metal", runMetal });
    expect(r.failures).toEqual([]);
    expect(r.passed).toBe(assertions);
  }, 180_000);
});
