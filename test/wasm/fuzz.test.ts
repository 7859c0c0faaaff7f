/** Mutated modules: readModule and validateModule may reject them, but only with a WasmError. */
import { expect, it } from "vitest";
import { readModule, WasmError } from "../../tools/wasm/reader.ts";
import { validateModule } from "../../tools/wasm/validate.ts";
import { wat } from "./wat.ts";

const seedModule = wat(`(module
  (type $p (func (param i32) (result i32 i32)))
  (import "e" "f" (func $imp (param i32)))
  (import "e" "g" (global $g i32))
  (memory 1 2) (table $t 4 funcref) (table $x 1 externref)
  (global $m (mut i64) (i64.const -1))
  (elem (table $t) (global.get $g) func $main) (elem $e funcref (ref.func $main) (ref.null func))
  (data (i32.const 16) "hello") (data $d "world")
  (func $main (export "main") (param i32) (result i32) (local f64 v128)
    (block $b (result i32)
      (loop $l (br_if $l (local.get 0)) (br_table $l $l (local.get 0)))
      (if (result i32 i32) (i32.eqz (local.get 0)) (then (i32.const 1) (i32.const 2)) (else (i32.const 3) (i32.const 4)))
      (drop) (drop)
      (memory.init $d (i32.const 0) (i32.const 0) (i32.const 1))
      (table.init $t $e (i32.const 0) (i32.const 0) (i32.const 1))
      (local.set 1 (f64.const 1.5))
      (local.set 2 (i8x16.shuffle 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 (v128.load (i32.const 0)) (v128.const i32x4 1 2 3 4)))
      (call_indirect (type $p) (i32.const 0) (i32.const 0))
      (i32.add)
      (i64.store offset=8 (i32.const 0) (global.get $m))
      (select (i32.const 5) (i32.const 6) (local.get 0)) (drop))))`, { names: true });

/** xorshift32: deterministic, so a failure reproduces. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s;
  };
}

it("the seed module is valid", () => {
  expect(() => validateModule(readModule(seedModule))).not.toThrow();
});

it("rejects mutated modules only with WasmError", () => {
  const next = rng(0x5eed);
  let rejected = 0;
  for (let round = 0; round < 3000; round++) {
    const bytes = seedModule.slice();
    const edits = 1 + (next() % 3);
    for (let k = 0; k < edits; k++) {
      const at = 8 + (next() % (bytes.length - 8));
      bytes[at] = next() & 1 ? next() & 0xff : bytes[at] ^ (1 << (next() % 8));
    }
    const cut = next() % 8 === 0 ? next() % bytes.length : bytes.length;
    try {
      validateModule(readModule(bytes.subarray(0, cut)));
    } catch (e) {
      if (!(e instanceof WasmError)) throw new Error(`round ${round}: ${(e as Error).stack}`);
      rejected++;
    }
  }
  expect(rejected).toBeGreaterThan(1000);
});
