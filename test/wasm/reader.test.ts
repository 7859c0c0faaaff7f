/** readModule: golden modules from wat2wasm checked field by field, LEB128 edge cases, malformed input. */
import { describe, expect, it } from "vitest";
import { OPCODE_INFO, OPCODES } from "../../tools/wasm/opcodes.ts";
import { readModule, WasmError } from "../../tools/wasm/reader.ts";
import type { Instr } from "../../tools/wasm/types.ts";
import { rawModule, section, wat } from "./wat.ts";

/** Instructions without their offsets, for comparing shapes. */
const shape = (body: Instr[]) => body.map(({ offset: _offset, ...rest }) => rest);

function malformed(bytes: Uint8Array, message: string): void {
  let err: unknown;
  try {
    readModule(bytes);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(WasmError);
  expect((err as WasmError).reason).toContain(message);
}

describe("golden modules", () => {
  it("reads types, imports, tables, memories, globals, exports, start and names", () => {
    const bytes = wat(`(module $m
      (type $t0 (func (param i32 i64) (result f32 f64)))
      (import "env" "f" (func $imp (type $t0)))
      (import "env" "tab" (table 2 10 funcref))
      (import "env" "mem" (memory 1 2))
      (import "env" "g" (global $ig i32))
      (table $t 3 externref)
      (global $gm (mut i64) (i64.const -5))
      (global $gr funcref (ref.func $main))
      (func $main (export "main") (param i32) (result i32) (local i64 i64 f32)
        local.get 0)
      (func $st)
      (start $st)
      (export "tab" (table 0))
      (export "mem" (memory 0))
      (export "gm" (global $gm)))`, { names: true });
    const m = readModule(bytes);
    expect(m.types).toEqual([
      { params: ["i32", "i64"], results: ["f32", "f64"] },
      { params: ["i32"], results: ["i32"] },
      { params: [], results: [] },
    ]);
    expect(m.imports).toEqual([
      { module: "env", name: "f", desc: { kind: "func", typeIndex: 0 } },
      { module: "env", name: "tab", desc: { kind: "table", table: { elem: "funcref", limits: { min: 2, max: 10 } } } },
      { module: "env", name: "mem", desc: { kind: "memory", limits: { min: 1, max: 2 } } },
      { module: "env", name: "g", desc: { kind: "global", global: { type: "i32", mutable: false } } },
    ]);
    expect(m.tables).toEqual([{ elem: "externref", limits: { min: 3 } }]);
    expect(m.memories).toEqual([]);
    expect(m.globals.map((g) => g.type)).toEqual([{ type: "i64", mutable: true }, { type: "funcref", mutable: false }]);
    expect(shape(m.globals[0].init)).toEqual([{ op: 0x42, name: "i64.const", value: -5n }]);
    expect(shape(m.globals[1].init)).toEqual([{ op: 0xd2, name: "ref.func", index: 1 }]);
    expect(m.funcs.map((f) => f.typeIndex)).toEqual([1, 2]);
    expect(m.funcs[0].locals).toEqual(["i64", "i64", "f32"]);
    expect(shape(m.funcs[0].body)).toEqual([
      { op: 0x20, name: "local.get", index: 0 },
      { op: 0x0b, name: "end" },
    ]);
    expect(bytes[m.funcs[0].body[0].offset]).toBe(0x20);
    expect(m.exports).toEqual([
      { name: "main", kind: "func", index: 1 },
      { name: "tab", kind: "table", index: 0 },
      { name: "mem", kind: "memory", index: 0 },
      { name: "gm", kind: "global", index: 1 },
    ]);
    expect(m.start).toBe(2);
    expect(m.names.module).toBe("m");
    expect(m.names.functions.get(0)).toBe("imp");
    expect(m.names.functions.get(1)).toBe("main");
    expect(m.names.functions.get(2)).toBe("st");
    expect(m.customSections.map((s) => s.name)).toContain("name");
  });

  it("reads control instructions and their immediates", () => {
    const m = readModule(wat(`(module
      (type $pair (func (param i32) (result i32 i32)))
      (table 1 funcref)
      (func (param i32) (result i32)
        (block $b
          (loop $l
            (br_table $l $b $l (local.get 0))))
        (i32.const 1)
        (if (type $pair) (param i32) (result i32 i32) (local.get 0)
          (then (i32.const 2)) (else (i32.const 3)))
        drop
        (call_indirect (type $pair) (i32.const 0) (i32.const 0))
        drop drop))`));
    const body = shape(m.funcs[0].body);
    expect(body).toEqual([
      { op: 0x02, name: "block", blockType: { kind: "empty" } },
      { op: 0x03, name: "loop", blockType: { kind: "empty" } },
      { op: 0x20, name: "local.get", index: 0 },
      { op: 0x0e, name: "br_table", targets: [0, 1], defaultTarget: 0 },
      { op: 0x0b, name: "end" },
      { op: 0x0b, name: "end" },
      { op: 0x41, name: "i32.const", value: 1 },
      { op: 0x20, name: "local.get", index: 0 },
      { op: 0x04, name: "if", blockType: { kind: "type", index: 0 } },
      { op: 0x41, name: "i32.const", value: 2 },
      { op: 0x05, name: "else" },
      { op: 0x41, name: "i32.const", value: 3 },
      { op: 0x0b, name: "end" },
      { op: 0x1a, name: "drop" },
      { op: 0x41, name: "i32.const", value: 0 },
      { op: 0x41, name: "i32.const", value: 0 },
      { op: 0x11, name: "call_indirect", typeIndex: 0, table: 0 },
      { op: 0x1a, name: "drop" },
      { op: 0x1a, name: "drop" },
      { op: 0x0b, name: "end" },
    ]);
  });

  it("keeps constants exact: signed integers, raw float bits with NaN payloads", () => {
    const m = readModule(wat(`(module (func
      i32.const -2147483648 drop
      i32.const 2147483647 drop
      i64.const -9223372036854775808 drop
      i64.const 0x7fffffffffffffff drop
      f32.const nan:0x200001 drop
      f32.const -0 drop
      f64.const -nan:0x8000000000001 drop
      f64.const 1.5 drop))`));
    const values = m.funcs[0].body.filter((i) => i.value !== undefined).map((i) => i.value);
    expect(values).toEqual([
      -2147483648, 2147483647, -9223372036854775808n, 0x7fffffffffffffffn,
      0x7fa00001, 0x80000000, 0xfff8000000000001n, 0x3ff8000000000000n,
    ]);
  });

  it("reads memory, bulk-memory, reference-type and numeric extension instructions", () => {
    const m = readModule(wat(`(module
      (memory 1) (table $t 2 funcref) (table $u 2 funcref)
      (elem $e func 0) (data $d "hi")
      (func (param i32) (result i32)
        (i64.store32 offset=12 align=4 (local.get 0) (i64.const 1))
        (drop (i32.load16_u offset=0xffffffff (local.get 0)))
        (drop (memory.grow (memory.size)))
        (memory.init $d (i32.const 0) (i32.const 0) (i32.const 1))
        (data.drop $d)
        (memory.copy (i32.const 0) (i32.const 1) (i32.const 1))
        (memory.fill (i32.const 0) (i32.const 0) (i32.const 1))
        (table.init $u $e (i32.const 0) (i32.const 0) (i32.const 1))
        (elem.drop $e)
        (table.copy $t $u (i32.const 0) (i32.const 0) (i32.const 1))
        (drop (table.grow $u (ref.null func) (i32.const 1)))
        (drop (ref.is_null (ref.func 0)))
        (drop (select (result externref) (ref.null extern) (ref.null extern) (local.get 0)))
        (drop (i64.trunc_sat_f64_u (f64.const 0)))
        (i32.extend8_s (local.get 0))))`));
    const ops = m.funcs[0].body.filter((i) => !i.name.endsWith(".const") && i.name !== "local.get" && i.name !== "drop");
    expect(shape(ops)).toEqual([
      { op: 0x3e, name: "i64.store32", align: 2, memOffset: 12 },
      { op: 0x2f, name: "i32.load16_u", align: 1, memOffset: 0xffffffff },
      { op: 0x3f, name: "memory.size", index: 0 },
      { op: 0x40, name: "memory.grow", index: 0 },
      { op: 0xfc08, name: "memory.init", segment: 0, dst: 0 },
      { op: 0xfc09, name: "data.drop", index: 0 },
      { op: 0xfc0a, name: "memory.copy", dst: 0, src: 0 },
      { op: 0xfc0b, name: "memory.fill", index: 0 },
      { op: 0xfc0c, name: "table.init", segment: 0, dst: 1 },
      { op: 0xfc0d, name: "elem.drop", index: 0 },
      { op: 0xfc0e, name: "table.copy", dst: 0, src: 1 },
      { op: 0xd0, name: "ref.null", refType: "funcref" },
      { op: 0xfc0f, name: "table.grow", index: 1 },
      { op: 0xd2, name: "ref.func", index: 0 },
      { op: 0xd1, name: "ref.is_null" },
      { op: 0xd0, name: "ref.null", refType: "externref" },
      { op: 0xd0, name: "ref.null", refType: "externref" },
      { op: 0x1c, name: "select", selectTypes: ["externref"] },
      { op: 0xfc07, name: "i64.trunc_sat_f64_u" },
      { op: 0xc0, name: "i32.extend8_s" },
      { op: 0x0b, name: "end" },
    ]);
    expect(m.dataCount).toBe(1);
  });

  it("reads element and data segments in all their encodings", () => {
    const m = readModule(wat(`(module
      (global $g (import "e" "g") i32) (memory 1) (table $t0 4 funcref) (table $t1 4 funcref)
      (func $f0) (func $f1)
      (elem (i32.const 1) $f0 $f1)
      (elem func $f1)
      (elem (table $t1) (offset (global.get $g)) func $f0)
      (elem declare func $f0)
      (elem (table $t0) (i32.const 0) funcref (ref.null func) (ref.func $f1))
      (elem externref (ref.null extern))
      (data (i32.const 8) "abc")
      (data "\\00\\ff"))`));
    const strip = (e: Instr[] | undefined) => e && shape(e);
    expect(m.elems.map((e) => ({ ...e, offset: strip(e.offset), init: e.init.map(strip) }))).toEqual([
      { mode: "active", table: 0, offset: [{ op: 0x41, name: "i32.const", value: 1 }], elemType: "funcref",
        init: [[{ op: 0xd2, name: "ref.func", index: 0 }], [{ op: 0xd2, name: "ref.func", index: 1 }]] },
      { mode: "passive", table: 0, elemType: "funcref", init: [[{ op: 0xd2, name: "ref.func", index: 1 }]] },
      { mode: "active", table: 1, offset: [{ op: 0x23, name: "global.get", index: 0 }], elemType: "funcref",
        init: [[{ op: 0xd2, name: "ref.func", index: 0 }]] },
      { mode: "declarative", table: 0, elemType: "funcref", init: [[{ op: 0xd2, name: "ref.func", index: 0 }]] },
      { mode: "active", table: 0, offset: [{ op: 0x41, name: "i32.const", value: 0 }], elemType: "funcref",
        init: [[{ op: 0xd0, name: "ref.null", refType: "funcref" }], [{ op: 0xd2, name: "ref.func", index: 1 }]] },
      { mode: "passive", table: 0, elemType: "externref", init: [[{ op: 0xd0, name: "ref.null", refType: "externref" }]] },
    ]);
    expect(m.datas.map((d) => ({ ...d, offset: strip(d.offset), bytes: [...d.bytes] }))).toEqual([
      { mode: "active", memory: 0, offset: [{ op: 0x41, name: "i32.const", value: 8 }], bytes: [0x61, 0x62, 0x63] },
      { mode: "passive", memory: 0, bytes: [0x00, 0xff] },
    ]);
  });

  it("decodes SIMD instructions so that they can be named and refused", () => {
    const m = readModule(wat(`(module (memory 1) (func (result v128)
      (v128.store offset=16 (i32.const 0) (v128.load align=8 (i32.const 0)))
      (drop (i32x4.extract_lane 3 (v128.const i32x4 1 2 3 0xffffffff)))
      (drop (v128.load16_lane offset=2 7 (i32.const 0) (v128.const i64x2 0 0)))
      (i8x16.shuffle 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 (v128.const i8x16 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0)
        (f64x2.convert_low_i32x4_u (v128.const i32x4 0 0 0 0)))))`));
    const simd = m.funcs[0].body.filter((i) => OPCODE_INFO.get(i.op)!.feature === "simd");
    expect(simd.map((i) => i.name)).toEqual([
      "v128.load", "v128.store", "v128.const", "i32x4.extract_lane", "v128.const", "v128.load16_lane",
      "v128.const", "v128.const", "f64x2.convert_low_i32x4_u", "i8x16.shuffle",
    ]);
    const [load, store, c1, extract, , lane, , , conv, shuffle] = simd;
    expect(load).toMatchObject({ op: 0xfd00, align: 3, memOffset: 0 });
    expect(store).toMatchObject({ op: 0xfd0b, align: 4, memOffset: 16 });
    expect(c1.value).toBe(0xffffffff_00000003_00000002_00000001n);
    expect(extract).toMatchObject({ op: 0xfd1b, lane: 3 });
    expect(lane).toMatchObject({ op: 0xfd55, align: 1, memOffset: 2, lane: 7 });
    expect(conv.op).toBe(0xfdff);
    expect(shuffle.lanes).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
  });
});

describe("opcode table", () => {
  it("has one entry per opcode, with the WebAssembly 2.0 counts per feature", () => {
    expect(new Set(OPCODES.map((o) => o.op)).size).toBe(OPCODES.length);
    const count = (f: string) => OPCODES.filter((o) => o.feature === f).length;
    expect(count("simd")).toBe(236);
    expect(count("sat-trunc")).toBe(8);
    expect(count("sign-ext")).toBe(5);
  });
});

describe("LEB128 (5.2.2): exact decoding", () => {
  // A module whose only content is `(global i32 (i32.const <leb>))` or the i64 equivalent.
  const globalModule = (type: number, constOp: number, leb: number[]) =>
    rawModule(section(6, [0x01, type, 0x00, constOp, ...leb, 0x0b]));
  const i32 = (leb: number[]) => readModule(globalModule(0x7f, 0x41, leb)).globals[0].init[0].value;
  const i64 = (leb: number[]) => readModule(globalModule(0x7e, 0x42, leb)).globals[0].init[0].value;
  // `(memory <leb>)`: an unsigned u32.
  const memMin = (leb: number[]) => readModule(rawModule(section(5, [0x01, 0x00, ...leb]))).memories[0].min;

  it("decodes s32 across its range", () => {
    expect(i32([0x7f])).toBe(-1);
    expect(i32([0x3f])).toBe(63);
    expect(i32([0xc0, 0x00])).toBe(64);
    expect(i32([0x80, 0x7f])).toBe(-128);
    expect(i32([0xff, 0xff, 0xff, 0xff, 0x07])).toBe(2147483647);
    expect(i32([0x80, 0x80, 0x80, 0x80, 0x78])).toBe(-2147483648);
    expect(i32([0xff, 0xff, 0xff, 0xff, 0x7f])).toBe(-1); // non-minimal but in range: allowed
  });
  it("rejects over-long and out-of-range s32", () => {
    malformed(globalModule(0x7f, 0x41, [0x80, 0x80, 0x80, 0x80, 0x80, 0x00]), "integer representation too long");
    malformed(globalModule(0x7f, 0x41, [0xff, 0xff, 0xff, 0xff, 0x0f]), "integer too large");
    malformed(globalModule(0x7f, 0x41, [0x80, 0x80, 0x80, 0x80, 0x70]), "integer too large");
  });
  it("decodes s64 across its range", () => {
    expect(i64([0x7f])).toBe(-1n);
    expect(i64([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00])).toBe(0x7fffffffffffffffn);
    expect(i64([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x7f])).toBe(-0x8000000000000000n);
    expect(i64([0x80, 0x80, 0x80, 0x80, 0x10])).toBe(1n << 32n);
  });
  it("rejects over-long and out-of-range s64", () => {
    malformed(globalModule(0x7e, 0x42, [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00]), "integer representation too long");
    malformed(globalModule(0x7e, 0x42, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]), "integer too large");
    malformed(globalModule(0x7e, 0x42, [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x7e]), "integer too large");
  });
  it("decodes and bounds u32", () => {
    expect(memMin([0x80, 0x80, 0x04])).toBe(65536);
    expect(memMin([0xff, 0xff, 0xff, 0xff, 0x0f])).toBe(0xffffffff);
    malformed(rawModule(section(5, [0x01, 0x00, 0xff, 0xff, 0xff, 0xff, 0x1f])), "integer too large");
    malformed(rawModule(section(5, [0x01, 0x00, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00])), "integer representation too long");
  });
});

describe("malformed binaries", () => {
  it("checks the preamble", () => {
    malformed(new Uint8Array([]), "unexpected end");
    malformed(new Uint8Array([0x00, 0x61, 0x73, 0x6e, 1, 0, 0, 0]), "magic header not detected");
    malformed(new Uint8Array([0x00, 0x61, 0x73, 0x6d, 2, 0, 0, 0]), "unknown binary version");
  });
  it("checks section ids, order and sizes", () => {
    malformed(rawModule([0x0d, 0x00]), "malformed section id");
    malformed(rawModule(section(5, [0x00]), section(1, [0x00])), "unexpected content after last section");
    malformed(rawModule(section(1, [0x00, 0x00])), "section size mismatch");
    malformed(rawModule([0x01, 0x05, 0x00]), "length out of bounds");
  });
  it("requires function and code sections to agree, and the data count for data indices", () => {
    malformed(rawModule(section(1, [0x01, 0x60, 0x00, 0x00]), section(3, [0x01, 0x00])), "function and code section have inconsistent lengths");
    const dataDropBody = [0x01, 0x05, 0x00, 0xfc, 0x09, 0x00, 0x0b]; // one body: no locals; data.drop 0; end
    malformed(rawModule(section(1, [0x01, 0x60, 0x00, 0x00]), section(3, [0x01, 0x00]), section(10, dataDropBody)), "data count section required");
    malformed(rawModule(section(12, [0x01])), "data count and data section have inconsistent lengths");
  });
  it("rejects illegal opcodes, bad UTF-8 and reserved bytes", () => {
    const fn = (code: number[]) => rawModule(section(1, [0x01, 0x60, 0x00, 0x00]), section(3, [0x01, 0x00]), section(10, [0x01, code.length + 1, 0x00, ...code]));
    malformed(fn([0x06, 0x0b]), "illegal opcode");
    malformed(fn([0xfd, 0x9a, 0x01, 0x0b]), "illegal opcode");
    malformed(fn([0x3f, 0x01, 0x1a, 0x0b]), "zero byte expected");
    malformed(fn([0x01]), "unexpected end of section or function");
    malformed(fn([0x0b, 0x01]), "section size mismatch");
    malformed(rawModule(section(0, [0x02, 0xc0, 0x80])), "malformed UTF-8 encoding");
  });
});
