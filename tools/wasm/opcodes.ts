/**
 * The WebAssembly 2.0 opcode table, as data: opcode, text-format name, immediate kind, the
 * feature proposal it came from, and - for instructions whose typing is fixed - its operand and
 * result types (and the natural alignment of memory accesses).
 *
 * Spec: WebAssembly Core Specification 2.0, 5.4 "Instructions" (binary opcodes and immediates),
 * 3.3 "Instructions" (the fixed types listed as `sig`), 3.3.7 memory instructions (natural
 * alignment `maxAlign`), 5.4.8 vector instructions (0xFD prefix).
 *
 * Prefixed opcodes are numbered `0xFC00 | sub` and `0xFD00 | sub` (sub < 0x100 for every defined
 * instruction). A translator that does not implement a feature refuses by name:
 * `unsupported operator: ${OPCODE_INFO.get(instr.op)!.name}`.
 */
import type { ValType } from "./types.ts";

export type Feature = "mvp" | "sign-ext" | "sat-trunc" | "bulk-memory" | "reference-types" | "simd";

export type ImmKind =
  | "none"
  | "block"        // blocktype (block, loop, if)
  | "br"           // labelidx
  | "br_table"     // vec(labelidx) labelidx
  | "func"         // funcidx (call, ref.func)
  | "call_indirect" // typeidx tableidx
  | "local"        // localidx
  | "global"       // globalidx
  | "table"        // tableidx
  | "memarg"       // align offset
  | "memory"       // memory index byte (0x00 in 2.0): memory.size/grow/fill
  | "i32" | "i64" | "f32" | "f64" | "v128"
  | "reftype"      // ref.null t
  | "select_t"     // vec(valtype)
  | "memory_init"  // dataidx 0x00
  | "data"         // dataidx
  | "memory_copy"  // 0x00 0x00
  | "table_init"   // elemidx tableidx
  | "elem"         // elemidx
  | "table_copy"   // tableidx tableidx
  | "lane"         // laneidx byte
  | "memarg_lane"  // memarg laneidx
  | "shuffle";     // 16 laneidx bytes

export interface OpInfo {
  op: number;
  name: string;
  imm: ImmKind;
  feature: Feature;
  /** Operand and result types, for instructions whose type does not depend on context. */
  sig?: { params: ValType[]; results: ValType[] };
  /** Natural alignment (log2 of the access size) of a memory access. */
  maxAlign?: number;
  /** Number of lanes, for the lane-index immediate of SIMD lane instructions. */
  laneCount?: number;
}

const T: Record<string, ValType> = { i: "i32", I: "i64", f: "f32", F: "f64", v: "v128" };
/** "ii:i" -> [i32 i32] -> [i32] */
function sig(s: string): { params: ValType[]; results: ValType[] } {
  const [p, r] = s.split(":");
  return { params: [...p].map((c) => T[c]), results: [...r].map((c) => T[c]) };
}

export const OPCODES: OpInfo[] = [];
function def(op: number, name: string, imm: ImmKind, feature: Feature, s?: string, extra?: Partial<OpInfo>): void {
  OPCODES.push({ op, name, imm, feature, ...(s !== undefined ? { sig: sig(s) } : {}), ...extra });
}

// ---- 5.4.1 control instructions ----
def(0x00, "unreachable", "none", "mvp");
def(0x01, "nop", "none", "mvp", ":");
def(0x02, "block", "block", "mvp");
def(0x03, "loop", "block", "mvp");
def(0x04, "if", "block", "mvp");
def(0x05, "else", "none", "mvp");
def(0x0b, "end", "none", "mvp");
def(0x0c, "br", "br", "mvp");
def(0x0d, "br_if", "br", "mvp");
def(0x0e, "br_table", "br_table", "mvp");
def(0x0f, "return", "none", "mvp");
def(0x10, "call", "func", "mvp");
def(0x11, "call_indirect", "call_indirect", "mvp");
// ---- 5.4.2 reference instructions ----
def(0xd0, "ref.null", "reftype", "reference-types");
def(0xd1, "ref.is_null", "none", "reference-types");
def(0xd2, "ref.func", "func", "reference-types");
// ---- 5.4.3 parametric instructions ----
def(0x1a, "drop", "none", "mvp");
def(0x1b, "select", "none", "mvp");
def(0x1c, "select", "select_t", "reference-types");
// ---- 5.4.4 variable instructions ----
def(0x20, "local.get", "local", "mvp");
def(0x21, "local.set", "local", "mvp");
def(0x22, "local.tee", "local", "mvp");
def(0x23, "global.get", "global", "mvp");
def(0x24, "global.set", "global", "mvp");
// ---- 5.4.5 table instructions ----
def(0x25, "table.get", "table", "reference-types");
def(0x26, "table.set", "table", "reference-types");
def(0xfc0c, "table.init", "table_init", "bulk-memory", "iii:");
def(0xfc0d, "elem.drop", "elem", "bulk-memory", ":");
def(0xfc0e, "table.copy", "table_copy", "bulk-memory", "iii:");
def(0xfc0f, "table.grow", "table", "reference-types");
def(0xfc10, "table.size", "table", "reference-types", ":i");
def(0xfc11, "table.fill", "table", "reference-types");
// ---- 5.4.6 memory instructions ----
const loads: [number, string, string, number][] = [
  [0x28, "i32.load", "i:i", 2], [0x29, "i64.load", "i:I", 3], [0x2a, "f32.load", "i:f", 2],
  [0x2b, "f64.load", "i:F", 3], [0x2c, "i32.load8_s", "i:i", 0], [0x2d, "i32.load8_u", "i:i", 0],
  [0x2e, "i32.load16_s", "i:i", 1], [0x2f, "i32.load16_u", "i:i", 1], [0x30, "i64.load8_s", "i:I", 0],
  [0x31, "i64.load8_u", "i:I", 0], [0x32, "i64.load16_s", "i:I", 1], [0x33, "i64.load16_u", "i:I", 1],
  [0x34, "i64.load32_s", "i:I", 2], [0x35, "i64.load32_u", "i:I", 2], [0x36, "i32.store", "ii:", 2],
  [0x37, "i64.store", "iI:", 3], [0x38, "f32.store", "if:", 2], [0x39, "f64.store", "iF:", 3],
  [0x3a, "i32.store8", "ii:", 0], [0x3b, "i32.store16", "ii:", 1], [0x3c, "i64.store8", "iI:", 0],
  [0x3d, "i64.store16", "iI:", 1], [0x3e, "i64.store32", "iI:", 2],
];
for (const [op, name, s, a] of loads) def(op, name, "memarg", "mvp", s, { maxAlign: a });
def(0x3f, "memory.size", "memory", "mvp", ":i");
def(0x40, "memory.grow", "memory", "mvp", "i:i");
def(0xfc08, "memory.init", "memory_init", "bulk-memory", "iii:");
def(0xfc09, "data.drop", "data", "bulk-memory", ":");
def(0xfc0a, "memory.copy", "memory_copy", "bulk-memory", "iii:");
def(0xfc0b, "memory.fill", "memory", "bulk-memory", "iii:");
// ---- 5.4.7 numeric instructions ----
def(0x41, "i32.const", "i32", "mvp", ":i");
def(0x42, "i64.const", "i64", "mvp", ":I");
def(0x43, "f32.const", "f32", "mvp", ":f");
def(0x44, "f64.const", "f64", "mvp", ":F");
/** Defines consecutive opcodes that share a signature. */
function run(first: number, prefix: string, names: string, s: string, feature: Feature = "mvp"): void {
  names.split(" ").forEach((n, i) => def(first + i, prefix + n, "none", feature, s));
}
run(0x45, "i32.", "eqz", "i:i");
run(0x46, "i32.", "eq ne lt_s lt_u gt_s gt_u le_s le_u ge_s ge_u", "ii:i");
run(0x50, "i64.", "eqz", "I:i");
run(0x51, "i64.", "eq ne lt_s lt_u gt_s gt_u le_s le_u ge_s ge_u", "II:i");
run(0x5b, "f32.", "eq ne lt gt le ge", "ff:i");
run(0x61, "f64.", "eq ne lt gt le ge", "FF:i");
run(0x67, "i32.", "clz ctz popcnt", "i:i");
run(0x6a, "i32.", "add sub mul div_s div_u rem_s rem_u and or xor shl shr_s shr_u rotl rotr", "ii:i");
run(0x79, "i64.", "clz ctz popcnt", "I:I");
run(0x7c, "i64.", "add sub mul div_s div_u rem_s rem_u and or xor shl shr_s shr_u rotl rotr", "II:I");
run(0x8b, "f32.", "abs neg ceil floor trunc nearest sqrt", "f:f");
run(0x92, "f32.", "add sub mul div min max copysign", "ff:f");
run(0x99, "f64.", "abs neg ceil floor trunc nearest sqrt", "F:F");
run(0xa0, "f64.", "add sub mul div min max copysign", "FF:F");
const conversions: [number, string, string][] = [
  [0xa7, "i32.wrap_i64", "I:i"], [0xa8, "i32.trunc_f32_s", "f:i"], [0xa9, "i32.trunc_f32_u", "f:i"],
  [0xaa, "i32.trunc_f64_s", "F:i"], [0xab, "i32.trunc_f64_u", "F:i"], [0xac, "i64.extend_i32_s", "i:I"],
  [0xad, "i64.extend_i32_u", "i:I"], [0xae, "i64.trunc_f32_s", "f:I"], [0xaf, "i64.trunc_f32_u", "f:I"],
  [0xb0, "i64.trunc_f64_s", "F:I"], [0xb1, "i64.trunc_f64_u", "F:I"], [0xb2, "f32.convert_i32_s", "i:f"],
  [0xb3, "f32.convert_i32_u", "i:f"], [0xb4, "f32.convert_i64_s", "I:f"], [0xb5, "f32.convert_i64_u", "I:f"],
  [0xb6, "f32.demote_f64", "F:f"], [0xb7, "f64.convert_i32_s", "i:F"], [0xb8, "f64.convert_i32_u", "i:F"],
  [0xb9, "f64.convert_i64_s", "I:F"], [0xba, "f64.convert_i64_u", "I:F"], [0xbb, "f64.promote_f32", "f:F"],
  [0xbc, "i32.reinterpret_f32", "f:i"], [0xbd, "i64.reinterpret_f64", "F:I"],
  [0xbe, "f32.reinterpret_i32", "i:f"], [0xbf, "f64.reinterpret_i64", "I:F"],
];
for (const [op, name, s] of conversions) def(op, name, "none", "mvp", s);
def(0xc0, "i32.extend8_s", "none", "sign-ext", "i:i");
def(0xc1, "i32.extend16_s", "none", "sign-ext", "i:i");
def(0xc2, "i64.extend8_s", "none", "sign-ext", "I:I");
def(0xc3, "i64.extend16_s", "none", "sign-ext", "I:I");
def(0xc4, "i64.extend32_s", "none", "sign-ext", "I:I");
const saturating: [string, string][] = [
  ["i32.trunc_sat_f32_s", "f:i"], ["i32.trunc_sat_f32_u", "f:i"], ["i32.trunc_sat_f64_s", "F:i"],
  ["i32.trunc_sat_f64_u", "F:i"], ["i64.trunc_sat_f32_s", "f:I"], ["i64.trunc_sat_f32_u", "f:I"],
  ["i64.trunc_sat_f64_s", "F:I"], ["i64.trunc_sat_f64_u", "F:I"],
];
saturating.forEach(([name, s], i) => def(0xfc00 | i, name, "none", "sat-trunc", s));

// ---- 5.4.8 vector instructions (0xFD prefix) ----
const V = 0xfd00;
const simdMem: [number, string, string, number][] = [
  [0x00, "v128.load", "i:v", 4], [0x01, "v128.load8x8_s", "i:v", 3], [0x02, "v128.load8x8_u", "i:v", 3],
  [0x03, "v128.load16x4_s", "i:v", 3], [0x04, "v128.load16x4_u", "i:v", 3], [0x05, "v128.load32x2_s", "i:v", 3],
  [0x06, "v128.load32x2_u", "i:v", 3], [0x07, "v128.load8_splat", "i:v", 0], [0x08, "v128.load16_splat", "i:v", 1],
  [0x09, "v128.load32_splat", "i:v", 2], [0x0a, "v128.load64_splat", "i:v", 3], [0x0b, "v128.store", "iv:", 4],
  [0x5c, "v128.load32_zero", "i:v", 2], [0x5d, "v128.load64_zero", "i:v", 3],
];
for (const [op, name, s, a] of simdMem) def(V | op, name, "memarg", "simd", s, { maxAlign: a });
def(V | 0x0c, "v128.const", "v128", "simd", ":v");
def(V | 0x0d, "i8x16.shuffle", "shuffle", "simd", "vv:v", { laneCount: 32 });
def(V | 0x0e, "i8x16.swizzle", "none", "simd", "vv:v");
run(V | 0x0f, "", "i8x16.splat i16x8.splat i32x4.splat", "i:v", "simd");
def(V | 0x12, "i64x2.splat", "none", "simd", "I:v");
def(V | 0x13, "f32x4.splat", "none", "simd", "f:v");
def(V | 0x14, "f64x2.splat", "none", "simd", "F:v");
const lanes: [number, string, string, number][] = [
  [0x15, "i8x16.extract_lane_s", "v:i", 16], [0x16, "i8x16.extract_lane_u", "v:i", 16],
  [0x17, "i8x16.replace_lane", "vi:v", 16], [0x18, "i16x8.extract_lane_s", "v:i", 8],
  [0x19, "i16x8.extract_lane_u", "v:i", 8], [0x1a, "i16x8.replace_lane", "vi:v", 8],
  [0x1b, "i32x4.extract_lane", "v:i", 4], [0x1c, "i32x4.replace_lane", "vi:v", 4],
  [0x1d, "i64x2.extract_lane", "v:I", 2], [0x1e, "i64x2.replace_lane", "vI:v", 2],
  [0x1f, "f32x4.extract_lane", "v:f", 4], [0x20, "f32x4.replace_lane", "vf:v", 4],
  [0x21, "f64x2.extract_lane", "v:F", 2], [0x22, "f64x2.replace_lane", "vF:v", 2],
];
for (const [op, name, s, n] of lanes) def(V | op, name, "lane", "simd", s, { laneCount: n });
const icmp = "eq ne lt_s lt_u gt_s gt_u le_s le_u ge_s ge_u";
run(V | 0x23, "i8x16.", icmp, "vv:v", "simd");
run(V | 0x2d, "i16x8.", icmp, "vv:v", "simd");
run(V | 0x37, "i32x4.", icmp, "vv:v", "simd");
run(V | 0x41, "f32x4.", "eq ne lt gt le ge", "vv:v", "simd");
run(V | 0x47, "f64x2.", "eq ne lt gt le ge", "vv:v", "simd");
def(V | 0x4d, "v128.not", "none", "simd", "v:v");
run(V | 0x4e, "v128.", "and andnot or xor", "vv:v", "simd");
def(V | 0x52, "v128.bitselect", "none", "simd", "vvv:v");
def(V | 0x53, "v128.any_true", "none", "simd", "v:i");
const laneMem: [number, string, string, number, number][] = [
  [0x54, "v128.load8_lane", "iv:v", 0, 16], [0x55, "v128.load16_lane", "iv:v", 1, 8],
  [0x56, "v128.load32_lane", "iv:v", 2, 4], [0x57, "v128.load64_lane", "iv:v", 3, 2],
  [0x58, "v128.store8_lane", "iv:", 0, 16], [0x59, "v128.store16_lane", "iv:", 1, 8],
  [0x5a, "v128.store32_lane", "iv:", 2, 4], [0x5b, "v128.store64_lane", "iv:", 3, 2],
];
for (const [op, name, s, a, n] of laneMem) def(V | op, name, "memarg_lane", "simd", s, { maxAlign: a, laneCount: n });
/** SIMD opcodes whose type is [v128] -> [v128] unless listed with another signature. */
const simdPlain: [number, string, string?][] = [
  [0x5e, "f32x4.demote_f64x2_zero"], [0x5f, "f64x2.promote_low_f32x4"],
  [0x60, "i8x16.abs"], [0x61, "i8x16.neg"], [0x62, "i8x16.popcnt"], [0x63, "i8x16.all_true", "v:i"],
  [0x64, "i8x16.bitmask", "v:i"], [0x65, "i8x16.narrow_i16x8_s", "vv:v"], [0x66, "i8x16.narrow_i16x8_u", "vv:v"],
  [0x67, "f32x4.ceil"], [0x68, "f32x4.floor"], [0x69, "f32x4.trunc"], [0x6a, "f32x4.nearest"],
  [0x6b, "i8x16.shl", "vi:v"], [0x6c, "i8x16.shr_s", "vi:v"], [0x6d, "i8x16.shr_u", "vi:v"],
  [0x6e, "i8x16.add", "vv:v"], [0x6f, "i8x16.add_sat_s", "vv:v"], [0x70, "i8x16.add_sat_u", "vv:v"],
  [0x71, "i8x16.sub", "vv:v"], [0x72, "i8x16.sub_sat_s", "vv:v"], [0x73, "i8x16.sub_sat_u", "vv:v"],
  [0x74, "f64x2.ceil"], [0x75, "f64x2.floor"], [0x76, "i8x16.min_s", "vv:v"], [0x77, "i8x16.min_u", "vv:v"],
  [0x78, "i8x16.max_s", "vv:v"], [0x79, "i8x16.max_u", "vv:v"], [0x7a, "f64x2.trunc"],
  [0x7b, "i8x16.avgr_u", "vv:v"], [0x7c, "i16x8.extadd_pairwise_i8x16_s"], [0x7d, "i16x8.extadd_pairwise_i8x16_u"],
  [0x7e, "i32x4.extadd_pairwise_i16x8_s"], [0x7f, "i32x4.extadd_pairwise_i16x8_u"],
  [0x80, "i16x8.abs"], [0x81, "i16x8.neg"], [0x82, "i16x8.q15mulr_sat_s", "vv:v"], [0x83, "i16x8.all_true", "v:i"],
  [0x84, "i16x8.bitmask", "v:i"], [0x85, "i16x8.narrow_i32x4_s", "vv:v"], [0x86, "i16x8.narrow_i32x4_u", "vv:v"],
  [0x87, "i16x8.extend_low_i8x16_s"], [0x88, "i16x8.extend_high_i8x16_s"], [0x89, "i16x8.extend_low_i8x16_u"],
  [0x8a, "i16x8.extend_high_i8x16_u"], [0x8b, "i16x8.shl", "vi:v"], [0x8c, "i16x8.shr_s", "vi:v"],
  [0x8d, "i16x8.shr_u", "vi:v"], [0x8e, "i16x8.add", "vv:v"], [0x8f, "i16x8.add_sat_s", "vv:v"],
  [0x90, "i16x8.add_sat_u", "vv:v"], [0x91, "i16x8.sub", "vv:v"], [0x92, "i16x8.sub_sat_s", "vv:v"],
  [0x93, "i16x8.sub_sat_u", "vv:v"], [0x94, "f64x2.nearest"], [0x95, "i16x8.mul", "vv:v"],
  [0x96, "i16x8.min_s", "vv:v"], [0x97, "i16x8.min_u", "vv:v"], [0x98, "i16x8.max_s", "vv:v"],
  [0x99, "i16x8.max_u", "vv:v"], [0x9b, "i16x8.avgr_u", "vv:v"],
  [0x9c, "i16x8.extmul_low_i8x16_s", "vv:v"], [0x9d, "i16x8.extmul_high_i8x16_s", "vv:v"],
  [0x9e, "i16x8.extmul_low_i8x16_u", "vv:v"], [0x9f, "i16x8.extmul_high_i8x16_u", "vv:v"],
  [0xa0, "i32x4.abs"], [0xa1, "i32x4.neg"], [0xa3, "i32x4.all_true", "v:i"], [0xa4, "i32x4.bitmask", "v:i"],
  [0xa7, "i32x4.extend_low_i16x8_s"], [0xa8, "i32x4.extend_high_i16x8_s"], [0xa9, "i32x4.extend_low_i16x8_u"],
  [0xaa, "i32x4.extend_high_i16x8_u"], [0xab, "i32x4.shl", "vi:v"], [0xac, "i32x4.shr_s", "vi:v"],
  [0xad, "i32x4.shr_u", "vi:v"], [0xae, "i32x4.add", "vv:v"], [0xb1, "i32x4.sub", "vv:v"],
  [0xb5, "i32x4.mul", "vv:v"], [0xb6, "i32x4.min_s", "vv:v"], [0xb7, "i32x4.min_u", "vv:v"],
  [0xb8, "i32x4.max_s", "vv:v"], [0xb9, "i32x4.max_u", "vv:v"], [0xba, "i32x4.dot_i16x8_s", "vv:v"],
  [0xbc, "i32x4.extmul_low_i16x8_s", "vv:v"], [0xbd, "i32x4.extmul_high_i16x8_s", "vv:v"],
  [0xbe, "i32x4.extmul_low_i16x8_u", "vv:v"], [0xbf, "i32x4.extmul_high_i16x8_u", "vv:v"],
  [0xc0, "i64x2.abs"], [0xc1, "i64x2.neg"], [0xc3, "i64x2.all_true", "v:i"], [0xc4, "i64x2.bitmask", "v:i"],
  [0xc7, "i64x2.extend_low_i32x4_s"], [0xc8, "i64x2.extend_high_i32x4_s"], [0xc9, "i64x2.extend_low_i32x4_u"],
  [0xca, "i64x2.extend_high_i32x4_u"], [0xcb, "i64x2.shl", "vi:v"], [0xcc, "i64x2.shr_s", "vi:v"],
  [0xcd, "i64x2.shr_u", "vi:v"], [0xce, "i64x2.add", "vv:v"], [0xd1, "i64x2.sub", "vv:v"],
  [0xd5, "i64x2.mul", "vv:v"], [0xd6, "i64x2.eq", "vv:v"], [0xd7, "i64x2.ne", "vv:v"],
  [0xd8, "i64x2.lt_s", "vv:v"], [0xd9, "i64x2.gt_s", "vv:v"], [0xda, "i64x2.le_s", "vv:v"],
  [0xdb, "i64x2.ge_s", "vv:v"], [0xdc, "i64x2.extmul_low_i32x4_s", "vv:v"],
  [0xdd, "i64x2.extmul_high_i32x4_s", "vv:v"], [0xde, "i64x2.extmul_low_i32x4_u", "vv:v"],
  [0xdf, "i64x2.extmul_high_i32x4_u", "vv:v"],
  [0xe0, "f32x4.abs"], [0xe1, "f32x4.neg"], [0xe3, "f32x4.sqrt"], [0xe4, "f32x4.add", "vv:v"],
  [0xe5, "f32x4.sub", "vv:v"], [0xe6, "f32x4.mul", "vv:v"], [0xe7, "f32x4.div", "vv:v"],
  [0xe8, "f32x4.min", "vv:v"], [0xe9, "f32x4.max", "vv:v"], [0xea, "f32x4.pmin", "vv:v"], [0xeb, "f32x4.pmax", "vv:v"],
  [0xec, "f64x2.abs"], [0xed, "f64x2.neg"], [0xef, "f64x2.sqrt"], [0xf0, "f64x2.add", "vv:v"],
  [0xf1, "f64x2.sub", "vv:v"], [0xf2, "f64x2.mul", "vv:v"], [0xf3, "f64x2.div", "vv:v"],
  [0xf4, "f64x2.min", "vv:v"], [0xf5, "f64x2.max", "vv:v"], [0xf6, "f64x2.pmin", "vv:v"], [0xf7, "f64x2.pmax", "vv:v"],
  [0xf8, "i32x4.trunc_sat_f32x4_s"], [0xf9, "i32x4.trunc_sat_f32x4_u"], [0xfa, "f32x4.convert_i32x4_s"],
  [0xfb, "f32x4.convert_i32x4_u"], [0xfc, "i32x4.trunc_sat_f64x2_s_zero"], [0xfd, "i32x4.trunc_sat_f64x2_u_zero"],
  [0xfe, "f64x2.convert_low_i32x4_s"], [0xff, "f64x2.convert_low_i32x4_u"],
];
for (const [op, name, s] of simdPlain) def(V | op, name, "none", "simd", s ?? "v:v");

/** Opcode -> description, for every opcode defined by WebAssembly 2.0. */
export const OPCODE_INFO: ReadonlyMap<number, OpInfo> = new Map(OPCODES.map((o) => [o.op, o]));

/** The description of `op`; throws for an opcode that the table does not define. */
export function opInfo(op: number): OpInfo {
  const info = OPCODE_INFO.get(op);
  if (!info) throw new Error(`no such opcode 0x${op.toString(16)}`);
  return info;
}
