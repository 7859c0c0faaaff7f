/** validateModule and the typing helpers: valid and invalid modules from wat2wasm, error locations. */
import { describe, expect, it } from "vitest";
import { readModule, WasmError } from "../../tools/wasm/reader.ts";
import { blockSignature, funcType, importedFuncCount, validateModule } from "../../tools/wasm/validate.ts";
import { wat } from "./wat.ts";

const load = (text: string, names = false) => readModule(wat(text, { names }));
const valid = (text: string) => expect(() => validateModule(load(text))).not.toThrow();

function invalid(text: string, message: string): WasmError {
  const m = load(text, true);
  let err: unknown;
  try {
    validateModule(m);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(WasmError);
  expect((err as WasmError).reason).toMatch(new RegExp(`^${message}`));
  return err as WasmError;
}

describe("helpers", () => {
  const m = load(`(module
    (type (func (param i32) (result i64 i64)))
    (import "a" "f" (func (param f32)))
    (import "a" "g" (global i32))
    (import "a" "h" (func (result f64)))
    (func (param i64)))`);
  it("counts imported functions and types the whole function index space", () => {
    expect(importedFuncCount(m)).toBe(2);
    expect(funcType(m, 0)).toEqual({ params: ["f32"], results: [] });
    expect(funcType(m, 1)).toEqual({ params: [], results: ["f64"] });
    expect(funcType(m, 2)).toEqual({ params: ["i64"], results: [] });
    expect(() => funcType(m, 3)).toThrow(WasmError);
  });
  it("gives block signatures", () => {
    expect(blockSignature(m, { kind: "empty" })).toEqual({ params: [], results: [] });
    expect(blockSignature(m, { kind: "val", type: "externref" })).toEqual({ params: [], results: ["externref"] });
    expect(blockSignature(m, { kind: "type", index: 0 })).toEqual({ params: ["i32"], results: ["i64", "i64"] });
  });
});

describe("valid modules", () => {
  it("accepts multi-value blocks, unreachable code and polymorphic stacks", () => {
    valid(`(module
      (func (param i32) (result i32 i64)
        (local.get 0) (block (param i32) (result i32 i64) (i64.const 1)))
      (func (result i32)
        unreachable i32.add)
      (func (result f64)
        (block (result f64) (br_table 0 0 (f64.const 1) (i32.const 0))))
      (func (result i32) (select (unreachable) (i32.const 1) (i32.const 0))))`);
  });
  it("accepts reference types, bulk memory and tables", () => {
    valid(`(module (memory 1) (table $t 1 funcref) (table $e 1 externref)
      (elem declare func $f) (data $d "x")
      (func $f (param externref) (result funcref)
        (table.set $e (i32.const 0) (local.get 0))
        (drop (table.grow $t (ref.func $f) (i32.const 1)))
        (memory.init $d (i32.const 0) (i32.const 0) (i32.const 1))
        (drop (ref.is_null (local.get 0)))
        (table.get $t (i32.const 0))))`);
  });
  it("accepts SIMD", () => {
    valid(`(module (memory 1) (func (result i32)
      (v128.store (i32.const 0) (i32x4.add (v128.load (i32.const 0)) (i32x4.splat (i32.const 1))))
      (i8x16.extract_lane_u 15 (v128.load8_lane 15 (i32.const 0) (v128.const i64x2 0 0)))))`);
  });
});

describe("invalid modules", () => {
  it("reports type mismatches with the function index, name and instruction offset", () => {
    const text = `(module (func $ok) (func $bad (result i32) (i64.const 1)))`;
    const err = invalid(text, "type mismatch");
    const m = load(text, true);
    const end = m.funcs[1].body[1];
    expect(err.offset).toBe(end.offset);
    expect(err.message).toContain(`func 1 "bad"`);
    expect(err.message).toContain("at end");
  });
  it("checks operand types, stack heights and block results", () => {
    invalid(`(module (func (result i32) (i32.add (i32.const 1) (f32.const 1))))`, "type mismatch");
    invalid(`(module (func (i32.const 1)))`, "type mismatch");
    invalid(`(module (func (result i32) (block (result i32) (nop)) ))`, "type mismatch");
    invalid(`(module (func (param i32) (result i32) (if (result i32) (local.get 0) (then (i32.const 1)))))`, "type mismatch");
    invalid(`(module (func (block (result i32) (br_table 0 1 (i32.const 0) (i32.const 0))) drop))`, "type mismatch");
    invalid(`(module (func (select (ref.null func) (ref.null func) (i32.const 1)) drop))`, "type mismatch");
    invalid(`(module (func (drop (ref.is_null (i32.const 0)))))`, "type mismatch");
  });
  it("checks indices", () => {
    invalid(`(module (func (local.get 0) drop))`, "unknown local");
    invalid(`(module (func (global.get 0) drop))`, "unknown global");
    invalid(`(module (func (call 5)))`, "unknown function");
    invalid(`(module (func (br 1)))`, "unknown label");
    invalid(`(module (func (drop (i32.load (i32.const 0)))))`, "unknown memory");
    invalid(`(module (func (drop (table.size 0))))`, "unknown table");
    invalid(`(module (func (elem.drop 0)))`, "unknown elem segment");
    invalid(`(module (memory 1) (func (data.drop 1)) (data ""))`, "unknown data segment");
  });
  it("checks memory instructions, globals and references", () => {
    invalid(`(module (memory 1) (func (drop (i32.load align=8 (i32.const 0)))))`, "alignment must not be larger than natural");
    invalid(`(module (memory 1) (func (drop (v128.load64_lane align=16 1 (i32.const 0) (v128.const i64x2 0 0)))))`, "alignment must not be larger than natural");
    invalid(`(module (func (drop (i32x4.extract_lane 4 (v128.const i64x2 0 0)))))`, "invalid lane index");
    invalid(`(module (global i32 (i32.const 0)) (func (global.set 0 (i32.const 1))))`, "global is immutable");
    invalid(`(module (func $f (drop (ref.func $f))))`, "undeclared function reference");
    invalid(`(module (table 1 externref) (func (call_indirect (i32.const 0))))`, "type mismatch");
  });
  it("checks module-level rules", () => {
    invalid(`(module (memory 65537))`, "memory size must be at most 65536 pages");
    invalid(`(module (memory 2 1))`, "size minimum must not be greater than maximum");
    invalid(`(module (memory 1) (memory 1))`, "multiple memories");
    invalid(`(module (func $s (param i32)) (start $s))`, "start function");
    invalid(`(module (func (export "a")) (func (export "a")))`, "duplicate export name");
    invalid(`(module (global i32 (i64.const 0)))`, "type mismatch");
    invalid(`(module (global i32 (i32.const 0)) (global i32 (global.get 0)))`, "unknown global");
    invalid(`(module (global (import "a" "b") (mut i32)) (global i32 (global.get 0)))`, "constant expression required");
    invalid(`(module (global i32 (i32.add (i32.const 0) (i32.const 1))))`, "constant expression required");
    invalid(`(module (table 1 externref) (func $f) (elem (i32.const 0) $f))`, "type mismatch");
    invalid(`(module (func $f) (elem (table 0) (i32.const 0) func $f))`, "unknown table");
    invalid(`(module (data (i32.const 0) ""))`, "unknown memory");
  });
});
