/**
 * Data model of a decoded WebAssembly module (WebAssembly 2.0).
 *
 * Spec: WebAssembly Core Specification 2.0, ch. 2 "Structure" (2.3 types, 2.4 instructions,
 * 2.5 modules); the binary encodings that produce these values are in ch. 5 (reader.ts).
 *
 * CONTRACT: the translator is written against exactly these names and shapes. Fields may be
 * added, never renamed or removed.
 *  - Indices are plain numbers (all < 2^32). Function, table, memory and global index spaces
 *    start with the imports of that kind, then the module's own definitions.
 *  - Float constants are carried as raw bits (f32: number holding the u32 pattern; f64: bigint
 *    holding the u64 pattern) so NaN payloads survive.
 *  - `align` in a memory instruction is the exponent as encoded (alignment = 2^align bytes).
 */

export type ValType = "i32" | "i64" | "f32" | "f64" | "v128" | "funcref" | "externref";
export interface FuncType { params: ValType[]; results: ValType[] }
export interface Limits { min: number; max?: number }
export interface TableType { elem: ValType; limits: Limits }
export interface GlobalType { type: ValType; mutable: boolean }
export type ImportDesc =
  | { kind: "func"; typeIndex: number }
  | { kind: "table"; table: TableType }
  | { kind: "memory"; limits: Limits }
  | { kind: "global"; global: GlobalType };
export interface Import { module: string; name: string; desc: ImportDesc }
export interface Export { name: string; kind: "func" | "table" | "memory" | "global"; index: number }
export type BlockType = { kind: "empty" } | { kind: "val"; type: ValType } | { kind: "type"; index: number };

export interface Instr {
  /** Opcode: 0x00-0xFF single byte; prefixed ones as 0xFC00 | sub, 0xFD00 | sub (SIMD). */
  op: number;
  /** Spec text-format name, e.g. "i32.add", "memory.copy", "i64.trunc_sat_f64_u". */
  name: string;
  /** Byte offset of the opcode (its first byte) in the module. */
  offset: number;
  // Immediates, present as relevant:
  /** block / loop / if */
  blockType?: BlockType;
  /** br, br_if */
  depth?: number;
  /** br_table */
  targets?: number[];
  defaultTarget?: number;
  /** call (func), local.*, global.*, ref.func (func), table.get/set/size/grow/fill (table),
   *  memory.size/grow/fill (memory), data.drop (data), elem.drop (elem) */
  index?: number;
  /** call_indirect */
  typeIndex?: number;
  table?: number;
  /** Loads/stores (also SIMD): align exponent as encoded, offset < 2^32. */
  align?: number;
  memOffset?: number;
  /** i32.const (number, signed), i64.const (bigint, signed), f32.const (number = raw u32 bits),
   *  f64.const (bigint = raw u64 bits), v128.const (bigint = raw u128 bits, little-endian lanes). */
  value?: number | bigint;
  /** ref.null */
  refType?: ValType;
  /** select with explicit types (0x1C) */
  selectTypes?: ValType[];
  /** memory.init (segment, dst = memory), memory.copy (dst, src memories), table.init (segment,
   *  dst = table), table.copy (dst, src tables) */
  segment?: number;
  dst?: number;
  src?: number;
  /** SIMD lane index (extract/replace lane, load/store lane) */
  lane?: number;
  /** i8x16.shuffle: 16 lane indices */
  lanes?: number[];
  /** Not from the binary: set by the translator's loop versioning (tools/translate/hoist.ts) on an
   *  i32.add of an array element's address it proved cannot wrap modulo 2^32 (so the address may
   *  be formed in 64 bits, as part of the memory operand). */
  noWrap?: true;
}

/** Global: `init` is a constant expression, without its final `end`. */
export interface Global { type: GlobalType; init: Instr[] }
/** Element segment; each `init` entry is a constant expression (ref.func i / ref.null / global.get).
 *  For the function-index encodings (flags 0-3) the reader synthesises `ref.func i` entries. */
export interface Elem {
  mode: "active" | "passive" | "declarative";
  table: number;
  offset?: Instr[];
  elemType: ValType;
  init: Instr[][];
}
export interface Data { mode: "active" | "passive"; memory: number; offset?: Instr[]; bytes: Uint8Array }
export interface Func {
  typeIndex: number;
  /** Declared locals expanded one per local, parameters excluded. */
  locals: ValType[];
  /** Flat list including block/loop/if/else/end; the function's final `end` included. */
  body: Instr[];
  /** Byte offset of the function's code entry contents (just after its size field). */
  bodyOffset: number;
  /** Byte offset just past its code entry: [bodyOffset, bodyEnd) holds the locals declaration and
   *  the expression (the quick tier, tools/translate/quick/, reads them from `WasmModule.bytes`). */
  bodyEnd?: number;
}
export interface WasmModule {
  types: FuncType[];
  imports: Import[];
  /** Defined functions only; the function index space has the imported functions first. */
  funcs: Func[];
  tables: TableType[];
  memories: Limits[];
  globals: Global[];
  exports: Export[];
  start?: number;
  elems: Elem[];
  datas: Data[];
  dataCount?: number;
  /** From the "name" custom section, if any (function index space). */
  names: { module?: string; functions: Map<number, string> };
  customSections: { name: string; bytes: Uint8Array }[];
  /** The binary the module was read from (readModule). */
  bytes?: Uint8Array;
}
