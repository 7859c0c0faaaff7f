/**
 * WebAssembly binary reader: bytes -> WasmModule (types.ts). Rejects malformed binaries with a
 * WasmError whose message follows the spec test suite's `assert_malformed` texts where practical.
 * It checks the binary format only; typing rules live in validate.ts.
 *
 * Spec: WebAssembly Core Specification 2.0, ch. 5 "Binary Format":
 *   5.2 values (5.2.2 LEB128 integers, exact: over-long or out-of-range encodings are malformed;
 *       5.2.3 floats as raw bits; 5.2.4 UTF-8 names), 5.3 types, 5.4 instructions
 *   (opcode table in opcodes.ts), 5.5 modules (section order, 5.5.13 data count rule,
 *   function/code length agreement), appendix 7.4 "Custom Sections" (the name section).
 */
import { OPCODES, type ImmKind } from "./opcodes.ts";
import type {
  BlockType, Data, Elem, Export, Func, FuncType, Global, GlobalType, Import, Instr, Limits,
  TableType, ValType, WasmModule,
} from "./types.ts";

/** A malformed binary (reader) or an invalid module (validator); `offset` is a byte offset in the module. */
export class WasmError extends Error {
  constructor(message: string, readonly offset: number) {
    super(`${message} (at byte 0x${offset.toString(16)})`);
    this.name = "WasmError";
    this.reason = message;
  }
  /** The message without the offset suffix (e.g. "type mismatch"). */
  readonly reason: string;
}

/** Most locals one function may declare; the spec allows < 2^32, engines cap it (JS API: 50000). */
export const MAX_LOCALS = 50_000;

const VALTYPE_CODES: Record<number, ValType> = {
  0x7f: "i32", 0x7e: "i64", 0x7d: "f32", 0x7c: "f64", 0x7b: "v128", 0x70: "funcref", 0x6f: "externref",
};
// ignoreBOM: a leading U+FEFF is part of the name, not a byte-order mark to strip.
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** A cursor over `bytes[pos, end)`; `end` is narrowed to the current section or function. */
class Cursor {
  constructor(readonly bytes: Uint8Array, public pos: number, public end: number) {}

  fail(message: string, at = this.pos): never {
    throw new WasmError(message, at);
  }
  /** Inside a section (or function) running out of bytes has its own spec message. */
  inSection = false;
  failEnd(): never {
    return this.fail(this.inSection ? "unexpected end of section or function" : "unexpected end");
  }
  eof(): boolean {
    return this.pos >= this.end;
  }
  byte(): number {
    if (this.pos >= this.end) this.failEnd();
    return this.bytes[this.pos++];
  }
  take(n: number): Uint8Array {
    if (n > this.end - this.pos) this.failEnd();
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** 5.2.2 u32: at most 5 bytes; the 5th byte carries 4 value bits, the rest must be zero. */
  u32(): number {
    let result = 0;
    for (let i = 0; i < 4; i++) {
      const b = this.byte();
      result |= (b & 0x7f) << (7 * i);
      if ((b & 0x80) === 0) return result >>> 0;
    }
    const b = this.byte();
    if (b & 0x80) this.fail("integer representation too long", this.pos - 1);
    if (b & 0x70) this.fail("integer too large", this.pos - 1);
    return (result | (b << 28)) >>> 0;
  }

  /** 5.2.2 s32: at most 5 bytes; the unused bits of the 5th byte must sign-extend bit 31. */
  s32(): number {
    let result = 0;
    for (let i = 0; i < 4; i++) {
      const b = this.byte();
      result |= (b & 0x7f) << (7 * i);
      if ((b & 0x80) === 0) {
        const shift = 7 * (i + 1);
        return b & 0x40 ? result | (-1 << shift) : result;
      }
    }
    const b = this.byte();
    if (b & 0x80) this.fail("integer representation too long", this.pos - 1);
    const top = b & 0x78;
    if (top !== 0 && top !== 0x78) this.fail("integer too large", this.pos - 1);
    return result | (b << 28);
  }

  /** 5.2.2 s33 (block types): at most 5 bytes; bits 5-6 of the 5th byte must equal bit 4. */
  s33(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 4; i++) {
      const b = this.byte();
      result += (b & 0x7f) * scale;
      scale *= 128;
      if ((b & 0x80) === 0) return b & 0x40 ? result - scale : result;
    }
    const b = this.byte();
    if (b & 0x80) this.fail("integer representation too long", this.pos - 1);
    const top = b & 0x70;
    if (top !== 0 && top !== 0x70) this.fail("integer too large", this.pos - 1);
    result += (b & 0x1f) * scale;
    return b & 0x10 ? result - 2 ** 33 : result;
  }

  /** 5.2.2 s64: at most 10 bytes; the 10th byte's bits 1-6 must equal bit 0 (bit 63). */
  s64(): bigint {
    let lo = 0; // bits 0..27 (4 bytes)
    for (let i = 0; i < 4; i++) {
      const b = this.byte();
      lo |= (b & 0x7f) << (7 * i);
      if ((b & 0x80) === 0) {
        const shift = 7 * (i + 1);
        return BigInt(b & 0x40 ? lo | (-1 << shift) : lo);
      }
    }
    // Bytes 4..8 (bits 28..62) in a double (35 bits: exact), made a BigInt once at the end.
    let hi = 0;
    let scale = 1;
    for (let i = 4; i < 9; i++) {
      const b = this.byte();
      hi += (b & 0x7f) * scale;
      scale *= 128;
      if ((b & 0x80) === 0) {
        const result = (BigInt(hi) << 28n) | BigInt(lo >>> 0);
        return b & 0x40 ? result - (1n << BigInt(7 * (i + 1))) : result;
      }
    }
    const b = this.byte();
    if (b & 0x80) this.fail("integer representation too long", this.pos - 1);
    if (b !== 0 && b !== 0x7f) this.fail("integer too large", this.pos - 1);
    return BigInt.asIntN(64, (BigInt(b & 1) << 63n) | (BigInt(hi) << 28n) | BigInt(lo >>> 0));
  }

  /** 5.2.4 name: vec(byte) that must be valid UTF-8. */
  name(): string {
    const at = this.pos;
    const len = this.u32();
    if (len > this.end - this.pos) this.fail("length out of bounds", at);
    const raw = this.take(len);
    try {
      return utf8.decode(raw);
    } catch {
      return this.fail("malformed UTF-8 encoding", at);
    }
  }

  /** 5.3.1 / 5.3.2 valtype (number, vector and reference types). */
  valType(): ValType {
    const at = this.pos;
    const t = VALTYPE_CODES[this.byte()];
    if (!t) this.fail("malformed value type", at);
    return t;
  }
  refType(): ValType {
    const at = this.pos;
    const b = this.byte();
    if (b === 0x70) return "funcref";
    if (b === 0x6f) return "externref";
    return this.fail("malformed reference type", at);
  }

  /** 5.3.4 limits: 0x00 min | 0x01 min max. */
  limits(): Limits {
    const at = this.pos;
    const flag = this.byte();
    if (flag === 0x00) return { min: this.u32() };
    if (flag === 0x01) return { min: this.u32(), max: this.u32() };
    if (flag & 0x80) this.fail("integer representation too long", at); // flags are a byte, not a LEB128
    return this.fail("integer too large", at); // spec tests: other flags are malformed limits
  }
  tableType(): TableType {
    const elem = this.refType();
    return { elem, limits: this.limits() };
  }
  globalType(): GlobalType {
    const type = this.valType();
    const at = this.pos;
    const m = this.byte();
    if (m > 1) this.fail("malformed mutability", at);
    return { type, mutable: m === 1 };
  }
  zeroByte(): void {
    const at = this.pos;
    if (this.byte() !== 0) this.fail("zero byte expected", at);
  }

  /** 5.4.1 blocktype: 0x40 | valtype | s33 type index (non-negative). */
  blockType(): BlockType {
    const at = this.pos;
    const b = this.bytes[this.pos];
    if (b === 0x40) {
      this.pos++;
      return EMPTY_BLOCK;
    }
    const t = VALTYPE_CODES[b];
    if (t && this.pos < this.end) {
      this.pos++;
      let bt = VAL_BLOCKS.get(t);
      if (bt === undefined) VAL_BLOCKS.set(t, (bt = { kind: "val", type: t }));
      return bt;
    }
    const index = this.s33();
    if (index < 0) this.fail("malformed block type", at);
    return { kind: "type", index };
  }
}

/** Decoder state shared across sections. */
interface ReadState {
  usesDataIndex: boolean; // memory.init / data.drop seen: the data count section is required (5.5.13)
}

/** The immediate kinds, numbered by their index here: readInstr switches on the number (a jump
 *  table; string cases are compared one after the other). */
const IMM_KINDS: readonly ImmKind[] = [
  "none", "block", "br", "br_table", "func", "local", "global", "table", "elem", "call_indirect", "memarg", "memarg_lane", "memory", "i32", "i64", "f32", "f64", "v128", "reftype", "select_t", "memory_init", "data", "memory_copy", "table_init", "table_copy", "lane", "shuffle",
];
/** What the reader needs of an opcode table entry, in objects of one shape (OpInfo's optional fields give it several). */
interface Decoded { name: string; kind: number }
function decoded(o: { name: string; imm: ImmKind }): Decoded {
  const kind = IMM_KINDS.indexOf(o.imm);
  if (kind < 0) throw new Error(`reader: no decoder for immediate kind ${o.imm}`);
  return { name: o.name, kind };
}

/** The one-byte opcodes by opcode (no Map lookup per instruction), and the prefixed ones. */
const BYTE_OPCODE_INFO: (Decoded | undefined)[] = new Array(256).fill(undefined);
const PREFIXED_OPCODE_INFO = new Map<number, Decoded>();
for (const o of OPCODES) {
  if (o.op <= 0xff) BYTE_OPCODE_INFO[o.op] = decoded(o);
  else PREFIXED_OPCODE_INFO.set(o.op, decoded(o));
}

/** Scratch cell for f64.const: its 8 bytes, read back as one u64 (no BigInt arithmetic). */
const F64_BYTES = new Uint8Array(8);
const F64_VIEW = new DataView(F64_BYTES.buffer);

/** Shared block types without an index (read-only: never mutated by consumers). */
const EMPTY_BLOCK: BlockType = { kind: "empty" };
const VAL_BLOCKS = new Map<ValType, BlockType>();

/**
 * 5.4 one instruction, with its immediates. Each instruction is one object literal with exactly
 * its fields (op, name, offset, then the immediates in a fixed order), so it is allocated once
 * with its properties in-object.
 */
function readInstr(c: Cursor, st: ReadState): Instr {
  const offset = c.pos;
  let op = c.byte();
  let info: Decoded | undefined;
  if (op === 0xfc || op === 0xfd) {
    const sub = c.u32();
    if (sub > 0xff) c.fail(`illegal opcode 0x${op.toString(16)} ${sub}`, offset);
    op = (op << 8) | sub;
    info = PREFIXED_OPCODE_INFO.get(op);
  } else {
    info = BYTE_OPCODE_INFO[op];
  }
  if (!info) return c.fail(`illegal opcode 0x${op.toString(16)}`, offset);
  const name = info.name;
  switch (info.kind) {
    case 0: // none
      return { op, name, offset };
    case 1: { // block
      const blockType = c.blockType();
      return { op, name, offset, blockType };
    }
    case 2: { // br
      const depth = c.u32();
      return { op, name, offset, depth };
    }
    case 3: { // br_table
      const n = c.u32();
      const targets: number[] = [];
      for (let i = 0; i < n; i++) targets.push(c.u32());
      const defaultTarget = c.u32();
      return { op, name, offset, targets, defaultTarget };
    }
    case 4: // func
    case 5: // local
    case 6: // global
    case 7: // table
    case 8: { // elem
      const index = c.u32();
      return { op, name, offset, index };
    }
    case 9: { // call_indirect
      const typeIndex = c.u32();
      const table = c.u32();
      return { op, name, offset, typeIndex, table };
    }
    case 10: { // memarg
      const align = c.u32();
      const memOffset = c.u32();
      return { op, name, offset, align, memOffset };
    }
    case 11: { // memarg_lane
      const align = c.u32();
      const memOffset = c.u32();
      const lane = c.byte();
      return { op, name, offset, align, memOffset, lane };
    }
    case 12: // memory
      c.zeroByte();
      return { op, name, offset, index: 0 };
    case 13: { // i32
      const value = c.s32();
      return { op, name, offset, value };
    }
    case 14: { // i64
      const value = c.s64();
      return { op, name, offset, value };
    }
    case 15: { // f32
      if (c.end - c.pos < 4) c.failEnd();
      const b = c.bytes, p = c.pos;
      c.pos = p + 4;
      const value = (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24)) >>> 0;
      return { op, name, offset, value };
    }
    case 16: { // f64
      for (let i = 0; i < 8; i++) F64_BYTES[i] = c.byte();
      const value = F64_VIEW.getBigUint64(0, true);
      return { op, name, offset, value };
    }
    case 17: { // v128
      const b = c.take(16);
      const dv = new DataView(b.buffer, b.byteOffset, 16);
      const value = (dv.getBigUint64(8, true) << 64n) | dv.getBigUint64(0, true);
      return { op, name, offset, value };
    }
    case 18: { // reftype
      const refType = c.refType();
      return { op, name, offset, refType };
    }
    case 19: { // select_t
      const n = c.u32();
      const selectTypes: ValType[] = [];
      for (let i = 0; i < n; i++) selectTypes.push(c.valType());
      return { op, name, offset, selectTypes };
    }
    case 20: { // memory_init
      const segment = c.u32();
      c.zeroByte();
      st.usesDataIndex = true;
      return { op, name, offset, segment, dst: 0 };
    }
    case 21: { // data
      const index = c.u32();
      st.usesDataIndex = true;
      return { op, name, offset, index };
    }
    case 22: // memory_copy
      c.zeroByte();
      c.zeroByte();
      return { op, name, offset, dst: 0, src: 0 };
    case 23: { // table_init
      const segment = c.u32();
      const dst = c.u32();
      return { op, name, offset, segment, dst };
    }
    case 24: { // table_copy
      const dst = c.u32();
      const src = c.u32();
      return { op, name, offset, dst, src };
    }
    case 25: { // lane
      const lane = c.byte();
      return { op, name, offset, lane };
    }
    case 26: { // shuffle
      const lanes = Array.from(c.take(16));
      return { op, name, offset, lanes };
    }
  }
  return { op, name, offset };
}

/** Reads instructions up to and including the `end` that closes nesting level 0 into `out` from
 *  index 0 (overwriting what is there); returns how many. */
function readSequence(c: Cursor, st: ReadState, out: Instr[]): number {
  let depth = 0;
  let n = 0;
  for (;;) {
    if (c.eof()) c.failEnd();
    const ins = readInstr(c, st);
    out[n++] = ins;
    if (ins.op === 0x02 || ins.op === 0x03 || ins.op === 0x04) depth++;
    else if (ins.op === 0x0b && depth-- === 0) return n;
  }
}

/** 5.4.9 expr used as a constant expression: returned without its final `end`. */
function readConstExpr(c: Cursor, st: ReadState): Instr[] {
  const out: Instr[] = [];
  readSequence(c, st, out);
  out.pop();
  return out;
}

// Section ids (5.5.2) and the order they must appear in; the data count section (12) sits
// between the element (9) and code (10) sections.
const SECTION_ORDER: Record<number, number> = { 1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 6, 7: 7, 8: 8, 9: 9, 12: 10, 10: 11, 11: 12 };

export interface ReadOptions {
  /** Leave function bodies undecoded: each Func is a LazyFunc, whose locals and operators are
   *  decoded (and, once validateModule has seen the module, validated) when first read. A
   *  malformed body is then reported when it is read, not here. For the quick tier
   *  (tools/translate/quick/), which reads the bytes itself. */
  lazyBodies?: boolean;
}

/**
 * A function whose body is decoded on first use (ReadOptions.lazyBodies): `locals` and `body`
 * decode [bodyOffset, bodyEnd) of the module's bytes once; then `check` runs (set by
 * validateModule: the body's validation), so whoever reads a body reads a valid one.
 */
export class LazyFunc implements Func {
  private decoded: { locals: ValType[]; body: Instr[] } | undefined;
  /** Validation of the decoded body (validateModule sets it instead of validating now). */
  check: (() => void) | undefined;
  constructor(readonly typeIndex: number, readonly bodyOffset: number, readonly bodyEnd: number, private readonly m: WasmModule) {}
  get isDecoded(): boolean {
    return this.decoded !== undefined;
  }
  get locals(): ValType[] {
    return this.decode().locals;
  }
  get body(): Instr[] {
    return this.decode().body;
  }
  private decode(): { locals: ValType[]; body: Instr[] } {
    if (this.decoded) return this.decoded;
    const c = new Cursor(this.m.bytes!, this.bodyOffset, this.bodyEnd);
    c.inSection = true;
    const st: ReadState = { usesDataIndex: false };
    const { locals, body } = decodeBody(c, st, this.bodyOffset);
    if (st.usesDataIndex && this.m.dataCount === undefined) c.fail("data count section required", this.bodyOffset);
    this.decoded = { locals, body };
    this.check?.();
    return this.decoded;
  }
}

/** 5.5 module: decodes a complete binary module. Throws WasmError if it is malformed. */
export function readModule(bytes: Uint8Array, opts: ReadOptions = {}): WasmModule {
  const c = new Cursor(bytes, 0, bytes.length);
  const st: ReadState = { usesDataIndex: false };
  const m: WasmModule = {
    types: [], imports: [], funcs: [], tables: [], memories: [], globals: [], exports: [],
    elems: [], datas: [], names: { functions: new Map() }, customSections: [], bytes,
  };

  // 5.5.16 preamble: magic "\0asm" and version 1.
  const magic = [0x00, 0x61, 0x73, 0x6d];
  if (bytes.length < 4) c.fail("unexpected end", bytes.length);
  for (let i = 0; i < 4; i++) if (bytes[i] !== magic[i]) c.fail("magic header not detected", 0);
  c.pos = 4;
  if (bytes.length < 8) c.fail("unexpected end", bytes.length);
  if (bytes[4] !== 1 || bytes[5] !== 0 || bytes[6] !== 0 || bytes[7] !== 0) c.fail("unknown binary version", 4);
  c.pos = 8;

  let lastOrder = 0;
  let funcTypeIndices: number[] | undefined;
  let codeSeen = false;
  while (c.pos < bytes.length) {
    const idAt = c.pos;
    const id = c.byte();
    if (id > 12) c.fail("malformed section id", idAt);
    const size = c.u32();
    const start = c.pos;
    if (size > bytes.length - start) c.fail("length out of bounds: section extends past the end", start);
    const end = start + size;
    c.inSection = true;
    if (id !== 0) {
      const order = SECTION_ORDER[id];
      if (order <= lastOrder) c.fail("unexpected content after last section", idAt);
      lastOrder = order;
    }
    c.end = end;
    switch (id) {
      case 0: readCustomSection(c, m); c.pos = end; break;
      case 1: readVec(c, () => m.types.push(readFuncType(c))); break;
      case 2: readVec(c, () => m.imports.push(readImport(c))); break;
      case 3: funcTypeIndices = []; readVec(c, () => funcTypeIndices!.push(c.u32())); break;
      case 4: readVec(c, () => m.tables.push(c.tableType())); break;
      case 5: readVec(c, () => m.memories.push(c.limits())); break;
      case 6: readVec(c, () => m.globals.push({ type: c.globalType(), init: readConstExpr(c, st) })); break;
      case 7: readVec(c, () => m.exports.push(readExport(c))); break;
      case 8: m.start = c.u32(); break;
      case 9: readVec(c, () => m.elems.push(readElem(c, st))); break;
      case 12: m.dataCount = c.u32(); break;
      case 10: {
        codeSeen = true;
        const at = c.pos;
        const n = c.u32();
        if (n !== (funcTypeIndices?.length ?? 0)) c.fail("function and code section have inconsistent lengths", at);
        for (let i = 0; i < n; i++) m.funcs.push(opts.lazyBodies ? skipCode(c, m, funcTypeIndices![i]) : readCode(c, st, funcTypeIndices![i]));
        break;
      }
      case 11: {
        const at = c.pos;
        const n = c.u32();
        if (m.dataCount !== undefined && n !== m.dataCount) c.fail("data count and data section have inconsistent lengths", at);
        for (let i = 0; i < n; i++) m.datas.push(readData(c, st));
        break;
      }
    }
    if (c.pos !== end) c.fail("section size mismatch", c.pos);
    c.end = bytes.length;
    c.inSection = false;
  }
  if (!codeSeen && (funcTypeIndices?.length ?? 0) > 0) {
    c.fail("function and code section have inconsistent lengths", bytes.length);
  }
  if (m.dataCount !== undefined && m.datas.length !== m.dataCount) {
    c.fail("data count and data section have inconsistent lengths", bytes.length);
  }
  if (st.usesDataIndex && m.dataCount === undefined) c.fail("data count section required", bytes.length);
  return m;
}

function readVec(c: Cursor, item: () => void): void {
  const n = c.u32();
  for (let i = 0; i < n; i++) item();
}

/** 5.3.6 functype: 0x60 vec(valtype) vec(valtype). */
function readFuncType(c: Cursor): FuncType {
  const at = c.pos;
  if (c.byte() !== 0x60) c.fail("integer representation too long", at); // spec text for a bad functype tag
  const params: ValType[] = [];
  readVec(c, () => params.push(c.valType()));
  const results: ValType[] = [];
  readVec(c, () => results.push(c.valType()));
  return { params, results };
}

/** 5.5.5 import: module name, field name, importdesc. */
function readImport(c: Cursor): Import {
  const module = c.name();
  const name = c.name();
  const at = c.pos;
  const kind = c.byte();
  switch (kind) {
    case 0x00: return { module, name, desc: { kind: "func", typeIndex: c.u32() } };
    case 0x01: return { module, name, desc: { kind: "table", table: c.tableType() } };
    case 0x02: return { module, name, desc: { kind: "memory", limits: c.limits() } };
    case 0x03: return { module, name, desc: { kind: "global", global: c.globalType() } };
  }
  return c.fail("malformed import kind", at);
}

/** 5.5.10 export: name, exportdesc. */
function readExport(c: Cursor): Export {
  const name = c.name();
  const at = c.pos;
  const kind = c.byte();
  const kinds = ["func", "table", "memory", "global"] as const;
  if (kind > 3) c.fail("malformed export kind", at);
  return { name, kind: kinds[kind], index: c.u32() };
}

/** 5.5.12 element segment: eight encodings selected by a u32 flags field. */
function readElem(c: Cursor, st: ReadState): Elem {
  const at = c.pos;
  const flags = c.u32();
  if (flags > 7) c.fail("malformed elements segment kind", at);
  const passiveOrDeclarative = (flags & 1) !== 0;
  const explicitTable = (flags & 2) !== 0;
  const usesExprs = (flags & 4) !== 0;
  let mode: Elem["mode"] = "active";
  let table = 0;
  let offset: Instr[] | undefined;
  if (passiveOrDeclarative) {
    mode = explicitTable ? "declarative" : "passive";
  } else {
    if (explicitTable) table = c.u32();
    offset = readConstExpr(c, st);
  }
  let elemType: ValType = "funcref";
  if (passiveOrDeclarative || explicitTable) {
    if (usesExprs) {
      elemType = c.refType();
    } else {
      const kindAt = c.pos;
      if (c.byte() !== 0x00) c.fail("malformed element kind", kindAt);
    }
  }
  const init: Instr[][] = [];
  if (usesExprs) {
    readVec(c, () => init.push(readConstExpr(c, st)));
  } else {
    readVec(c, () => {
      const offset = c.pos;
      init.push([{ op: 0xd2, name: "ref.func", offset, index: c.u32() }]);
    });
  }
  return offset ? { mode, table, offset, elemType, init } : { mode, table, elemType, init };
}

/** 5.5.14 data segment: flags 0 (active, memory 0), 1 (passive), 2 (active, explicit memory). */
function readData(c: Cursor, st: ReadState): Data {
  const at = c.pos;
  const flags = c.u32();
  if (flags > 2) c.fail("malformed data segment kind", at);
  let memory = 0;
  let offset: Instr[] | undefined;
  if (flags !== 1) {
    if (flags === 2) memory = c.u32();
    offset = readConstExpr(c, st);
  }
  const lenAt = c.pos;
  const len = c.u32();
  if (len > c.end - c.pos) c.fail("unexpected end of section or function", lenAt);
  const bytes = c.take(len).slice();
  return offset ? { mode: "active", memory, offset, bytes } : { mode: "passive", memory, bytes };
}

/**
 * The instructions of the body being read (readCode), in [0, n): one array for every body, which
 * is then copied at its exact size (a body grown by push would leave its outgrown copies behind).
 * Never shortened: setting an array's length lower lets V8 trim its backing store.
 */
const BODY_SCRATCH: Instr[] = [];

/** 5.5.13 code entry: size, vec(locals), expr. */
function readCode(c: Cursor, st: ReadState, typeIndex: number): Func {
  const sizeAt = c.pos;
  const size = c.u32();
  const bodyOffset = c.pos;
  if (size > c.end - c.pos) c.fail("unexpected end of section or function", sizeAt);
  const sectionEnd = c.end;
  c.end = bodyOffset + size;
  const { locals, body } = decodeBody(c, st, bodyOffset);
  const bodyEnd = c.end;
  c.end = sectionEnd;
  return { typeIndex, locals, body, bodyOffset, bodyEnd };
}

/** A code entry's size only (ReadOptions.lazyBodies): the body is a LazyFunc's, decoded when read. */
function skipCode(c: Cursor, m: WasmModule, typeIndex: number): Func {
  const sizeAt = c.pos;
  const size = c.u32();
  const bodyOffset = c.pos;
  if (size > c.end - c.pos) c.fail("unexpected end of section or function", sizeAt);
  c.pos = bodyOffset + size;
  return new LazyFunc(typeIndex, bodyOffset, bodyOffset + size, m);
}

/** The locals declaration and the expression of a code entry, `c` narrowed to it. */
function decodeBody(c: Cursor, st: ReadState, bodyOffset: number): { locals: ValType[]; body: Instr[] } {
  const locals: ValType[] = [];
  const groups = c.u32();
  let total = 0;
  for (let i = 0; i < groups; i++) {
    const at = c.pos;
    const n = c.u32();
    total += n;
    if (total > 0xffffffff) c.fail("too many locals", at);
    const t = c.valType();
    // Past the limit nothing is expanded: the check below fails once every count has been read.
    if (total <= MAX_LOCALS) for (let k = 0; k < n; k++) locals.push(t);
  }
  if (total > MAX_LOCALS) c.fail(`too many locals (${total}; implementation limit ${MAX_LOCALS})`, bodyOffset);
  const n = readSequence(c, st, BODY_SCRATCH);
  const body = BODY_SCRATCH.slice(0, n);
  BODY_SCRATCH.fill(undefined!, 0, n); // the instructions belong to `body` alone
  if (c.pos !== c.end) c.fail("section size mismatch: junk after the function's end", c.pos);
  return { locals, body };
}

/** 5.5.3 custom section; the "name" section (7.4.1) is decoded best-effort: errors in it are ignored. */
function readCustomSection(c: Cursor, m: WasmModule): void {
  const name = c.name();
  const bytes = c.bytes.slice(c.pos, c.end);
  m.customSections.push({ name, bytes });
  if (name !== "name") return;
  const n = new Cursor(c.bytes, c.pos, c.end);
  try {
    while (!n.eof()) {
      const id = n.byte();
      const size = n.u32();
      const end = n.pos + size;
      if (end > c.end) break;
      if (id === 0) {
        m.names.module = n.name();
      } else if (id === 1) {
        const count = n.u32();
        for (let i = 0; i < count; i++) {
          const idx = n.u32();
          m.names.functions.set(idx, n.name());
        }
      }
      n.pos = end;
    }
  } catch (e) {
    if (!(e instanceof WasmError)) throw e;
  }
}
