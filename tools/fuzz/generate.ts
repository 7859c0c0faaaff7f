/**
 * Random, valid WebAssembly programs for differential testing (translator vs V8).
 *
 * One module holds many independent "programs": `$prog_N` is a function with a random signature
 * and a random body; `$run_N` resets the shared state (memory, globals), calls `$prog_N` with
 * constant arguments and prints its results, a hash of memory and a hash of the globals through
 * env.trace. `main` calls every `$run_N` in order, so one boot checks hundreds of programs and a
 * mismatching line is attributed to its program by the `p N` header printed before it.
 *
 * Programs do not trap unless `traps` is set: divisors are replaced by 1 when 0 (or -1 for div_s),
 * trapping float->int conversions see 0 unless the operand is in range, addresses are masked into
 * the low 32 KiB of memory, loops count iterations in a fresh local, recursion carries a fuel
 * argument, calls form a DAG, and a work budget stops bodies from multiplying loop and call costs.
 * NaN bit patterns may legitimately differ between engines, so every place where float bits become
 * observable (reinterpret, store, copysign's sign operand, printing) canonicalises NaN first.
 *
 * The program body is kept as a tree whose `expr`/`stmt` nodes can each be replaced by a constant
 * (or nothing): that is what the CLI's shrinker removes, and every replacement stays valid.
 *
 * Memory map of the generated module (2 pages initially, at most MAX_PAGES):
 *   0x00000 .. 0x0A000   work area (masked addresses + offsets + fill/copy lengths stay inside)
 *   0x0A000 .. 0x0F000   asc-style arrays (ARRAYS), out of reach of masked addresses and fill/copy
 *   0x10000 .. 0x1F000   pristine image of both, copied back before every program
 *   0x1F000 ..           the trace message strings
 */

export type ValType = "i32" | "i64" | "f32" | "f64";
const TYPES: ValType[] = ["i32", "i64", "f32", "f64"];

/** A tree of wat text. `expr` nodes push `types`; `stmt` nodes leave the stack as it was. */
export type Node = string | Span;
export interface Span {
  id: number;
  kind: "expr" | "stmt";
  types: ValType[];
  parts: Node[];
}

export const WORK_BYTES = 0xa000;
const ADDR_MASK = 0x7fff; // address + offset (<= 64) + access width (<= 8) < WORK_BYTES
const LEN_MASK = 0x1fff; // fill/copy: dst/src (<= 0x7fff) + len < WORK_BYTES
const PRISTINE = 0x10000;
const MAX_PAGES = 40;
const MSG_P = 0x1f010; // "p"
const MSG_R = 0x1f020; // "r"
const TABLE_SIZE = 32;
const ARRAY_AREA = 0xa000, ARRAY_END = 0xf000;

/**
 * Arrays as AssemblyScript lays out a StaticArray: the length in bytes at base - 4, read as
 * `i32.load offset=16 (base - 20)`, every access checked against it by an `if` whose arm ends in
 * `unreachable` (asc's `__get`/`__set` after inlining): the loops tools/translate/hoist.ts versions.
 * Apart, 512 bytes each. With traps allowed, a fifth whose elements start 8 bytes below the fourth's
 * base: its element 1 (u32) is the fourth's length, so a store may change a length the loop reads.
 */
const ARRAYS = [0, 1, 2, 3].map((j) => ({ base: ARRAY_AREA + 0x1000 * j + 0x40, bytes: 512 }));
const OVERLAPPING = { base: ARRAY_AREA + 0x3000 + 0x40 - 8, bytes: 256 };
/** Element kinds: [type, store, load, log2 of the element size]. */
const ELEMENTS: [ValType, string, string, number][] = [
  ["i32", "i32.store", "i32.load", 2], ["i32", "i32.store8", "i32.load8_u", 0], ["i32", "i32.store16", "i32.load16_s", 1],
  ["i64", "i64.store", "i64.load", 3], ["f32", "f32.store", "f32.load", 2], ["f64", "f64.store", "f64.load", 3],
];

/** mulberry32: small, fast, good enough for test generation. */
export class Rng {
  constructor(private s: number) {}
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number { return Math.floor(this.next() * n); }
  u32(): number { return (this.next() * 4294967296) >>> 0; }
  bool(p = 0.5): boolean { return this.next() < p; }
  pick<T>(xs: readonly T[]): T { return xs[this.int(xs.length)]; }
}

/** The seed of program `index` of module `seed`: programs are generated independently. */
export function programSeed(seed: number, index: number): number {
  return (Math.imul(seed, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca77)) | 0;
}

interface Sig { params: ValType[]; results: ValType[] }
interface Helper extends Sig { name: string; cost: number; text: string }
interface Label { name: string; types: ValType[]; branchable: boolean; /** loops: the counter every back edge bumps */ counter?: string; limit?: number }

export interface GenOptions {
  /** Allow operations that may trap (unguarded division, conversions, addresses, indirect calls, unreachable). */
  traps?: boolean;
}

const I32_INTERESTING = [0, 1, -1, 2, 31, 32, 63, 64, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff, -0x80000000, -2, 0x55555555];
const I64_INTERESTING = [0n, 1n, -1n, 2n, 63n, 64n, 0x7fffffffn, 0x80000000n, 0xffffffffn, 0x100000000n,
  0x7fffffffffffffffn, -0x8000000000000000n, -2n, 0x5555555555555555n];
const F_INTERESTING = ["0", "-0", "1", "-1", "0.5", "-1.5", "2", "inf", "-inf", "nan", "-nan", "nan:0x200", "3.5", "-2.5",
  "4294967296", "-2147483648", "2147483647.5", "9223372036854775807", "1e-40", "3e38", "0.49999999999999994"];

const f32buf = new Float32Array(1), f32bits = new Uint32Array(f32buf.buffer);
const f64buf = new Float64Array(1), f64bits = new BigUint64Array(f64buf.buffer);

function floatText(x: number): string {
  if (Number.isNaN(x)) return "nan";
  if (x === Infinity) return "inf";
  if (x === -Infinity) return "-inf";
  if (Object.is(x, -0)) return "-0";
  return String(x);
}

function randConst(r: Rng, t: ValType): string {
  switch (t) {
    case "i32": {
      const v = r.bool(0.4) ? r.pick(I32_INTERESTING) : r.bool(0.5) ? r.int(200) - 100 : r.u32() | 0;
      return `i32.const ${v}`;
    }
    case "i64": {
      const v = r.bool(0.4) ? r.pick(I64_INTERESTING) : r.bool(0.5) ? BigInt(r.int(2000) - 1000)
        : BigInt.asIntN(64, (BigInt(r.u32()) << 32n) | BigInt(r.u32()));
      return `i64.const ${v}`;
    }
    case "f32": {
      if (r.bool(0.4)) return `f32.const ${r.pick(F_INTERESTING)}`;
      if (r.bool(0.5)) return `f32.const ${floatText(Math.fround((r.next() - 0.5) * 2 ** (r.int(80) - 40)))}`;
      f32bits[0] = r.u32();
      return `f32.const ${floatText(f32buf[0])}`;
    }
    case "f64": {
      if (r.bool(0.4)) return `f64.const ${r.pick([...F_INTERESTING, "1e300", "5e-324", "nan:0x8000000000001"])}`;
      if (r.bool(0.5)) return `f64.const ${floatText((r.next() - 0.5) * 2 ** (r.int(140) - 70))}`;
      f64bits[0] = (BigInt(r.u32()) << 32n) | BigInt(r.u32());
      return `f64.const ${floatText(f64buf[0])}`;
    }
  }
}

const INT_UNARY = ["clz", "ctz", "popcnt", "extend8_s", "extend16_s"];
const INT_BINARY = ["add", "sub", "mul", "and", "or", "xor", "shl", "shr_s", "shr_u", "rotl", "rotr"];
const INT_DIV = ["div_s", "div_u", "rem_s", "rem_u"];
const INT_CMP = ["eq", "ne", "lt_s", "lt_u", "gt_s", "gt_u", "le_s", "le_u", "ge_s", "ge_u"];
const FLT_UNARY = ["abs", "neg", "sqrt", "ceil", "floor", "trunc", "nearest"];
const FLT_BINARY = ["add", "sub", "mul", "div", "min", "max"];
const FLT_CMP = ["eq", "ne", "lt", "gt", "le", "ge"];

/** [result, operand, instruction] for every conversion. */
const CONVERSIONS: [ValType, ValType, string][] = [
  ["i32", "i64", "i32.wrap_i64"],
  ["i64", "i32", "i64.extend_i32_s"], ["i64", "i32", "i64.extend_i32_u"],
  ["f32", "i32", "f32.convert_i32_s"], ["f32", "i32", "f32.convert_i32_u"],
  ["f32", "i64", "f32.convert_i64_s"], ["f32", "i64", "f32.convert_i64_u"],
  ["f64", "i32", "f64.convert_i32_s"], ["f64", "i32", "f64.convert_i32_u"],
  ["f64", "i64", "f64.convert_i64_s"], ["f64", "i64", "f64.convert_i64_u"],
  ["f32", "f64", "f32.demote_f64"], ["f64", "f32", "f64.promote_f32"],
  ["f32", "i32", "f32.reinterpret_i32"], ["f64", "i64", "f64.reinterpret_i64"],
  ...(["i32", "i64"] as ValType[]).flatMap((i) => (["f32", "f64"] as ValType[]).flatMap((f) =>
    ["s", "u"].map((s) => [i, f, `${i}.trunc_sat_${f}_${s}`] as [ValType, ValType, string]))),
];
/** Trapping truncations with the open interval (lo, hi) of operands that do not trap. */
const TRUNCS: [ValType, ValType, string, string, string][] = [
  ["i32", "f32", "i32.trunc_f32_s", "-2147483904", "2147483648"],
  ["i32", "f64", "i32.trunc_f64_s", "-2147483649", "2147483648"],
  ["i32", "f32", "i32.trunc_f32_u", "-1", "4294967296"],
  ["i32", "f64", "i32.trunc_f64_u", "-1", "4294967296"],
  ["i64", "f32", "i64.trunc_f32_s", "-9223373136366403584", "9223372036854775808"],
  ["i64", "f64", "i64.trunc_f64_s", "-9223372036854777856", "9223372036854775808"],
  ["i64", "f32", "i64.trunc_f32_u", "-1", "18446744073709551616"],
  ["i64", "f64", "i64.trunc_f64_u", "-1", "18446744073709551616"],
];

/** [type, instruction, width in bytes] */
const LOADS: [ValType, string, number][] = [
  ["i32", "i32.load", 4], ["i32", "i32.load8_s", 1], ["i32", "i32.load8_u", 1], ["i32", "i32.load16_s", 2], ["i32", "i32.load16_u", 2],
  ["i64", "i64.load", 8], ["i64", "i64.load8_s", 1], ["i64", "i64.load8_u", 1], ["i64", "i64.load16_s", 2], ["i64", "i64.load16_u", 2],
  ["i64", "i64.load32_s", 4], ["i64", "i64.load32_u", 4], ["f32", "f32.load", 4], ["f64", "f64.load", 8],
];
const STORES: [ValType, string, number][] = [
  ["i32", "i32.store", 4], ["i32", "i32.store8", 1], ["i32", "i32.store16", 2],
  ["i64", "i64.store", 8], ["i64", "i64.store8", 1], ["i64", "i64.store16", 2], ["i64", "i64.store32", 4],
  ["f32", "f32.store", 4], ["f64", "f64.store", 8],
];

const GLOBALS: { name: string; type: ValType; mutable: boolean; init: string }[] = [];
{
  const r = new Rng(12345);
  for (const t of TYPES) {
    for (let k = 0; k < 3; k++) GLOBALS.push({ name: `$g_${t}_${k}`, type: t, mutable: k < 2, init: randConst(r, t) });
  }
}

/** Per-function generation state. */
class FuncGen {
  locals: { name: string; type: ValType }[] = [];
  private extraLocals: { name: string; type: ValType }[] = [];
  labels: Label[] = [];
  work = 0;
  mult = 1;
  private nextLabel = 0;
  private scratch = new Map<ValType, string>();
  /** Loop counters and the recursion fuel: never written by random code. */
  readOnly = new Set<string>();
  private recursed = false;
  private arrayIndex: string | undefined;
  private arrayBase: string | undefined;

  constructor(
    readonly r: Rng,
    readonly mod: ModuleGen,
    readonly sig: Sig,
    readonly callable: Helper[],
    readonly budget: number,
    readonly self?: { name: string; fuelParam: number },
  ) {
    sig.params.forEach((t, i) => this.locals.push({ name: `${i}`, type: t }));
    if (self) this.readOnly.add(`${self.fuelParam}`);
    for (let i = 0, n = this.r.int(4); i < n; i++) this.newLocal(this.r.pick(TYPES));
  }

  newLocal(t: ValType): string {
    const name = `$l${this.locals.length}`;
    this.locals.push({ name, type: t });
    this.extraLocals.push({ name, type: t });
    return name;
  }
  /** A local reused by guards whose tee and gets have no code between them. */
  scratchOf(t: ValType): string {
    let s = this.scratch.get(t);
    if (!s) this.scratch.set(t, (s = this.newLocal(t)));
    return s;
  }
  localDecls(): string {
    return this.extraLocals.map((l) => `(local ${l.name} ${l.type})`).join(" ");
  }
  span(kind: "expr" | "stmt", types: ValType[], parts: Node[]): Span {
    return { id: this.mod.nextId++, kind, types, parts };
  }
  tired(): boolean { return this.work > this.budget; }

  /** Code that pushes one value of type t. */
  expr(t: ValType, depth: number): Node {
    this.work += this.mult;
    const r = this.r;
    if (depth <= 0 || this.tired() || r.bool(0.15)) return this.span("expr", [t], [this.leaf(t)]);
    const c = r.int(100);
    let parts: Node[];
    if (c < 6) parts = [this.seq([t], depth - 1, true)];
    else if (c < 10) parts = [this.stmt(depth - 1), " ", this.expr(t, depth - 1)];
    else if (c < 48) parts = this.numeric(t, depth - 1);
    else if (c < 58) parts = this.conversion(t, depth - 1);
    else if (c < 66) parts = this.load(t, depth - 1);
    else if (c < 72) parts = [this.expr(t, depth - 1), " ", this.expr(t, depth - 1), " ", this.expr("i32", depth - 1), r.bool() ? ` select (result ${t})` : " select"];
    else if (c < 76) {
      const l = this.localOf(t);
      parts = l ? [this.expr(t, depth - 1), ` local.tee ${l}`] : [this.leaf(t)];
    } else if (c < 79 && t === "i32") parts = ["memory.size"];
    else if (c < 81 && t === "i32") parts = [this.expr("i32", depth - 1), ` i32.const ${r.bool(0.7) ? 1 : 3} i32.and memory.grow`];
    else if (c < 84) parts = this.polymorphic(depth - 1) ?? [this.leaf(t)];
    else if (c < 86) parts = this.tower(t, depth - 1);
    else parts = [this.seq([t], depth - 1, true)];
    return this.span("expr", [t], parts);
  }

  /** Many operands pushed before the operators that combine them: a tall value stack. */
  tower(t: ValType, d: number): Node[] {
    const n = 4 + this.r.int(14);
    const ops = t === "i32" || t === "i64" ? INT_BINARY : FLT_BINARY;
    const parts: Node[] = [];
    for (let i = 0; i < n; i++) parts.push(this.r.bool(0.7) ? this.leaf(t) : this.expr(t, Math.min(d, 2)), " ");
    for (let i = 1; i < n; i++) parts.push(`${t}.${this.r.pick(ops)} `);
    return parts;
  }

  leaf(t: ValType): string {
    const r = this.r;
    const c = r.int(10);
    if (c < 4) { const l = this.localOf(t); if (l) return `local.get ${l}`; }
    if (c < 6) return `global.get ${r.pick(GLOBALS.filter((g) => g.type === t)).name}`;
    return randConst(r, t);
  }

  localOf(t: ValType): string | undefined {
    const ls = this.locals.filter((l) => l.type === t && !this.readOnly.has(l.name));
    return ls.length ? this.r.pick(ls).name : undefined;
  }

  canon(t: ValType): string {
    if (t === "i32" || t === "i64") return "";
    const s = this.scratchOf(t);
    return ` local.tee ${s} ${t}.const nan local.get ${s} local.get ${s} ${t}.eq select`;
  }

  numeric(t: ValType, d: number): Node[] {
    const r = this.r;
    if (t === "i32" && r.bool(0.3)) {
      // comparisons / eqz produce i32 from any type
      const o = r.pick(TYPES);
      if (o === "i32" || o === "i64") {
        if (r.bool(0.2)) return [this.expr(o, d), ` ${o}.eqz`];
        return [this.expr(o, d), " ", this.expr(o, d), ` ${o}.${r.pick(INT_CMP)}`];
      }
      return [this.expr(o, d), " ", this.expr(o, d), ` ${o}.${r.pick(FLT_CMP)}`];
    }
    if (t === "i32" || t === "i64") {
      const c = r.int(10);
      if (c < 2) {
        const op = r.pick(t === "i64" ? [...INT_UNARY, "extend32_s"] : INT_UNARY);
        return [this.expr(t, d), ` ${t}.${op}`];
      }
      if (c < 4) return this.division(t, d);
      return [this.expr(t, d), " ", this.expr(t, d), ` ${t}.${r.pick(INT_BINARY)}`];
    }
    if (r.bool(0.3)) return [this.expr(t, d), ` ${t}.${r.pick(FLT_UNARY)}`];
    if (r.bool(0.12)) return [this.expr(t, d), " ", this.expr(t, d), this.canon(t), ` ${t}.copysign`];
    return [this.expr(t, d), " ", this.expr(t, d), ` ${t}.${r.pick(FLT_BINARY)}`];
  }

  division(t: ValType, d: number): Node[] {
    const op = this.r.pick(INT_DIV);
    if (this.r.bool(0.3)) {
      // constant divisor: the translator may strength-reduce these
      const ks = [1, 2, 3, 4, 5, 7, 8, 10, 16, 255, 256, 1000, 0x7fffffff, -2, -3, -8, -0x80000000, ...(op === "div_s" ? [] : [-1])];
      return [this.expr(t, d), ` ${t}.const ${this.r.pick(ks)} ${t}.${op}`];
    }
    if (this.mod.opts.traps && this.r.bool(0.15)) return [this.expr(t, d), " ", this.expr(t, d), ` ${t}.${op}`];
    const s = this.scratchOf(t);
    // select(divisor, 1, ok): ok = divisor != 0 (div_s: divisor not in {0, -1}; rem_s of MIN by -1 is 0, no trap)
    const ok = op === "div_s"
      ? `local.get ${s} ${t}.const 1 ${t}.add ${t}.const 1 ${t}.gt_u`
      : `local.get ${s} ${t}.eqz i32.eqz`;
    return [this.expr(t, d), " ", this.expr(t, d), ` local.tee ${s} ${t}.const 1 ${ok} select ${t}.${op}`];
  }

  conversion(t: ValType, d: number): Node[] {
    const r = this.r;
    if ((t === "i32" || t === "i64") && r.bool(0.3)) {
      const [, from, ins, lo, hi] = r.pick(TRUNCS.filter((x) => x[0] === t));
      if (this.mod.opts.traps && r.bool(0.2)) return [this.expr(from, d), ` ${ins}`];
      const s = this.scratchOf(from);
      return [this.expr(from, d),
        ` local.tee ${s} ${from}.const 0 local.get ${s} ${from}.const ${lo} ${from}.gt local.get ${s} ${from}.const ${hi} ${from}.lt i32.and select ${ins}`];
    }
    if (t === "i32" && r.bool(0.1)) return [this.expr("f32", d), this.canon("f32"), " i32.reinterpret_f32"];
    if (t === "i64" && r.bool(0.1)) return [this.expr("f64", d), this.canon("f64"), " i64.reinterpret_f64"];
    const [, from, ins] = r.pick(CONVERSIONS.filter((x) => x[0] === t));
    return [this.expr(from, d), ` ${ins}`];
  }

  address(d: number): Node[] {
    if (this.mod.opts.traps && this.r.bool(0.05)) return [this.expr("i32", d)];
    if (this.r.bool(0.15)) return [`i32.const ${this.r.bool() ? this.r.int(64) : this.r.int(ADDR_MASK + 1)}`];
    return [this.expr("i32", d), ` i32.const ${ADDR_MASK} i32.and`];
  }
  /** An array to access: its base operator and length. */
  array(): { base: string; bytes: number } {
    const a = this.mod.opts.traps && this.r.bool(0.25) ? OVERLAPPING : this.r.pick(ARRAYS);
    const j = ARRAYS.indexOf(a);
    return { base: j >= 0 && this.r.bool(0.3) ? `global.get $array${j}` : `i32.const ${a.base}`, bytes: a.bytes };
  }
  /** An array's length in elements of 2^shift bytes, as asc reads it. */
  arrayLength(base: string, shift: number): string {
    return `${base} i32.const 20 i32.sub i32.load offset=16${shift ? ` i32.const ${shift} i32.shr_u` : ""}`;
  }
  /** An index into the function's array-index local, below the length unless traps are allowed,
   *  and asc's check of it; its arm ends in unreachable (after printing, now and then). Now and
   *  then as binaryen writes an accessor it inlined itself: the base tee'd into a local, which the
   *  element's address then reads (the base returned), and the index tee'd. */
  arrayCheck(base: string, bytes: number, shift: number, d: number): { code: Node[]; index: string; base: string } {
    // One index local per function: it is set right before its check and read right after it.
    const x = this.arrayIndex ??= this.newLocal("i32");
    this.readOnly.add(x);
    const mask = this.mod.opts.traps && this.r.bool(0.3) ? "" : ` i32.const ${(bytes >> shift) - 1} i32.and`;
    const arm = this.r.bool() ? "unreachable" : `local.get ${x} call $print_i32 unreachable`;
    const t = this.r.bool(0.3) ? (this.arrayBase ??= this.newLocal("i32")) : undefined;
    if (t !== undefined) this.readOnly.add(t);
    const length = this.arrayLength(t === undefined ? base : `${base} local.tee ${t}`, shift);
    const read = t === undefined ? `local.get ${x}` : `local.get ${x} local.tee ${x}`;
    return { code: [this.expr("i32", d), `${mask} local.set ${x} ${read} ${length} i32.ge_u if ${arm} end `], index: x, base: t === undefined ? base : `local.get ${t}` };
  }
  /** A checked element store, its value plain (a local or a constant) more often than not. */
  arrayStore(d: number): Node[] {
    const [t, store, , shift] = this.r.pick(ELEMENTS);
    const a = this.array();
    const { code, index, base: checked } = this.arrayCheck(a.base, a.bytes, shift, d);
    const l = this.localOf(t);
    const plain = t === "f32" || t === "f64" ? randConst(this.r, t).replace(/nan(:0x[0-9a-f]+)?/, "1") : l && this.r.bool() ? `local.get ${l}` : randConst(this.r, t);
    const value: Node[] = this.r.bool(0.6) ? [plain] : [this.expr(t, d), this.canon(t)];
    // the element's address off the same base, or (all arrays are as long) another array's
    const base = this.r.bool(0.8) ? checked : this.array().base;
    const address = `${base} local.get ${index} i32.const ${shift} i32.shl i32.add `;
    // a float value set into a local first, then stored from it (asc's inlined `__set(i, v)`: the
    // translator stores it from where it was computed when nothing reads the local before its next
    // set); the value an integer converted and scaled (in a register, never NaN: no canonicalisation)
    if ((t === "f32" || t === "f64") && l && this.r.bool(0.3)) {
      const scaled = ` ${t}.convert_i32_s ${t}.const ${this.r.int(2000) - 1000}.5 ${t}.mul local.set ${l} `;
      return [...code, this.expr("i32", d), scaled, address, ` local.get ${l} ${store}`];
    }
    return [...code, address, ...value, ` ${store}`];
  }
  /** A checked element load of type t, if an element kind has it. */
  arrayLoad(t: ValType, d: number): Node[] | undefined {
    const kinds = ELEMENTS.filter((e) => e[0] === t);
    if (!kinds.length) return undefined;
    const [, , load, shift] = this.r.pick(kinds);
    const a = this.array();
    const { code, index, base } = this.arrayCheck(a.base, a.bytes, shift, d);
    return [...code, `${base} local.get ${index} i32.const ${shift} i32.shl i32.add ${load}`];
  }
  memarg(width: number): string {
    const off = this.r.bool(0.5) ? 0 : this.r.int(65);
    const align = 1 << this.r.int(Math.log2(width) + 1);
    return `${off ? ` offset=${off}` : ""}${align !== width || this.r.bool(0.2) ? ` align=${align}` : ""}`;
  }
  load(t: ValType, d: number): Node[] {
    if (this.r.bool(0.15)) {
      if (t === "i32" && this.r.bool(0.3)) return [this.arrayLength(this.array().base, this.r.int(4))];
      const checked = this.arrayLoad(t, d);
      if (checked) return checked;
    }
    const [, ins, w] = this.r.pick(LOADS.filter((x) => x[0] === t));
    // A few fixed addresses, so the same i32.load comes back with stores (to random addresses)
    // and calls in between or not (tools/translate/loads.ts loads a repeat once).
    if (t === "i32" && this.r.bool(0.3)) {
      const at = `i32.const ${4 * this.r.int(2)} i32.load`;
      return this.r.bool(0.5) ? [at] : [at, " ", this.stmt(d), " ", at, " i32.xor"];
    }
    return [...this.address(d), ` ${ins}${this.memarg(w)}`];
  }

  /** Code that pushes values of `types`, possibly through blocks, calls and branches. */
  seq(types: ValType[], depth: number, structured = false): Span {
    this.work += this.mult;
    const r = this.r;
    if (depth <= 0 || this.tired()) return this.span("expr", types, types.map((t) => this.leaf(t) + " "));
    const c = structured ? 20 + r.int(80) : r.int(100);
    let parts: Node[] | undefined;
    if (c < 30) parts = types.flatMap((t) => [this.expr(t, depth - 1), " "]);
    else if (c < 45) parts = this.block(types, depth);
    else if (c < 55) parts = this.ifElse(types, depth);
    else if (c < 63 && this.mult < 16) parts = this.loop(types, depth);
    else if (c < 78) parts = this.call(types, depth);
    else if (c < 84) parts = this.brIf(types, depth);
    else if (c < 88) parts = this.polymorphic(depth - 1);
    else if (c < 92 && types.length === 1 && this.self) parts = this.recurse(types[0], depth);
    if (!parts) parts = types.flatMap((t) => [this.expr(t, depth - 1), " "]);
    return this.span("expr", types, parts);
  }

  randTypes(max: number): ValType[] {
    if (max > 0 && this.r.bool(0.05)) max = 6;
    const n = this.r.int(max + 1);
    return Array.from({ length: n }, () => this.r.pick(TYPES));
  }
  blockType(params: ValType[], results: ValType[]): string {
    return `${params.length ? ` (param ${params.join(" ")})` : ""}${results.length ? ` (result ${results.join(" ")})` : ""}`;
  }
  /** Pop `params` into fresh locals (last first), so the body can read them. */
  consume(params: ValType[]): string {
    const names = params.map((t) => this.newLocal(t));
    return names.reverse().map((n) => `local.set ${n} `).join("");
  }
  /** The function body, inside a block so that it can be branched to by name. */
  funcBody(depth: number): Node[] {
    const bt = this.blockType([], this.sig.results);
    // Now and then loops at the top level before it, and more locals: functions with more hot locals
    // than pin registers and several top-level loops (the translator's pin regions, function.ts).
    const before: Node[] = [];
    if (this.r.bool(0.3)) {
      for (let i = 0, n = 4 + this.r.int(5); i < n; i++) this.newLocal(this.r.bool(0.6) ? "i32" : this.r.pick(TYPES));
      for (let i = 0, n = 2 + this.r.int(2); i < n; i++) before.push(this.span("stmt", [], this.loop([], depth - 1)), " ");
    }
    return [...before, `block $fn${bt} `, ...this.body({ name: "$fn", types: this.sig.results, branchable: true }, this.sig.results, depth), " end"];
  }
  body(label: Label, results: ValType[], depth: number): Node[] {
    this.labels.push(label);
    const parts: Node[] = [];
    for (let i = 0, n = this.r.int(3); i < n; i++) parts.push(this.stmt(depth - 1), " ");
    parts.push(this.seq(results, depth - 1));
    this.labels.pop();
    return parts;
  }
  label(): string { return `$L${this.nextLabel++}`; }

  block(types: ValType[], depth: number): Node[] {
    const name = this.label();
    const params = this.r.bool(0.3) ? this.randTypes(this.r.bool(0.8) ? 2 : 5) : [];
    return [
      params.length ? this.seq(params, depth - 1) : "",
      ` block ${name}${this.blockType(params, types)} ${this.consume(params)}`,
      ...this.body({ name, types, branchable: true }, types, depth),
      " end ",
    ];
  }

  /** `a && b` / `a || b` of two comparisons (i32.and / i32.or), b of locals and constants only
   *  (integer or float), as asc writes `if (x < n && y != 0)`: the translator branches on each
   *  (function.ts shortCircuitEnd). */
  junction(depth: number): Node[] {
    const r = this.r;
    const cmp = () => r.pick(["lt_s", "lt_u", "gt_s", "gt_u", "le_s", "ge_u", "eq", "ne"]);
    const l = this.localOf("i32");
    const operand = () => (l && r.bool(0.6) ? `local.get ${l}` : `i32.const ${r.int(9) - 4}`);
    const f = r.pick(["f32", "f64"] as const), fl = this.localOf(f);
    const fOperand = () => (fl && r.bool(0.6) ? `local.get ${fl}` : randConst(r, f));
    const second = r.bool(0.2) ? `${operand()} i32.eqz`
      : r.bool(0.2) ? `${fOperand()} ${fOperand()} ${f}.${r.pick(["eq", "ne", "lt", "gt", "le", "ge"])}` // eq/ne: float.ts makes the 0/1
      : `${operand()} ${operand()} i32.add ${operand()} i32.${cmp()}`;
    return [this.expr("i32", depth - 1), " ", this.expr("i32", depth - 1), ` i32.${cmp()} ${second} ${r.bool() ? "i32.and" : "i32.or"}`];
  }

  ifElse(types: ValType[], depth: number): Node[] {
    const name = this.label();
    const params = this.r.bool(0.3) ? this.randTypes(2) : [];
    const label = { name, types, branchable: true };
    const paramsCode = params.length ? this.seq(params, depth - 1) : "";
    const cond: Node[] = this.r.bool(0.2) ? this.junction(depth) : [this.expr("i32", depth - 1)];
    const hasElse = types.length > 0 || params.length > 0 || this.r.bool();
    // without an else, an if's params must equal its results: only used for the void form
    return [
      paramsCode, " ", ...cond,
      ` if ${name}${this.blockType(params, types)} ${this.consume(params)}`,
      ...this.body(label, types, depth),
      hasElse ? ` else ${this.consume(params)}` : "",
      ...(hasElse ? this.body(label, types, depth) : []),
      " end ",
    ];
  }

  loop(types: ValType[], depth: number): Node[] {
    const name = this.label();
    const counter = this.newLocal("i32");
    this.readOnly.add(counter);
    const params = this.r.bool(0.5) ? this.randTypes(2) : [];
    const n = 1 + this.r.int(4);
    const init = this.seq(params, depth - 1);
    const label: Label = { name, types: params, branchable: false, counter, limit: n };
    this.mult *= n;
    const head = this.consume(params);
    const inner = this.body(label, params, depth);
    this.mult /= n;
    return [
      `i32.const 0 local.set ${counter} `, init,
      ` loop ${name}${this.blockType(params, types)} ${head}`, ...inner,
      ` local.get ${counter} i32.const 1 i32.add local.tee ${counter} i32.const ${n} i32.lt_u br_if ${name} `,
      this.consume(params),
      ...this.body({ name: this.label(), types: [], branchable: false }, types, depth),
      " end ",
    ];
  }

  call(types: ValType[], depth: number): Node[] | undefined {
    const fits = this.callable.filter((h) => sameTypes(h.results, types) && h.cost * this.mult + this.work < this.budget * 2);
    if (!fits.length) return undefined;
    const h = this.r.pick(fits);
    this.work += h.cost * this.mult;
    const args: Node[] = h.params.map((t) => this.expr(t, depth - 1));
    const sigText = this.blockType(h.params, h.results);
    if (this.r.bool(0.3)) {
      let index: string;
      if (this.mod.opts.traps && this.r.bool(0.2)) index = `i32.const ${this.r.int(TABLE_SIZE + 4)}`;
      else {
        const same = this.callable.filter((g) => sameTypes(g.params, h.params) && sameTypes(g.results, h.results) && g.cost <= h.cost);
        const other = this.r.pick(same);
        index = `i32.const ${this.mod.tableIndex(h)} i32.const ${this.mod.tableIndex(other)} ${this.r.bool() ? "i32.const 1" : "memory.size i32.const 2 i32.gt_u"} select`;
      }
      return [...args.flatMap((a) => [a, " "]), `${index} call_indirect${sigText}`];
    }
    return [...args.flatMap((a) => [a, " "]), `call ${h.name}`];
  }

  recurse(t: ValType, depth: number): Node[] | undefined {
    const self = this.self!;
    if (!sameTypes(this.sig.results, [t]) || this.recursed || this.mult !== 1) return undefined;
    this.recursed = true;
    const fuel = `${self.fuelParam}`;
    const args: Node[] = this.sig.params.map((p, i) =>
      i === self.fuelParam ? `local.get ${fuel} i32.const 1 i32.sub ` : this.expr(p, depth - 1));
    return [
      `local.get ${fuel} if (result ${t}) `, ...args.flatMap((a) => [a, " "]), `call ${self.name} else `,
      this.expr(t, depth - 1), " end",
    ];
  }

  brIf(types: ValType[], depth: number): Node[] | undefined {
    const ls = this.labels.filter((l) => (l.branchable || l.counter) && sameTypes(l.types, types));
    if (!ls.length) return undefined;
    const l = this.r.pick(ls);
    // a back edge to a loop only while its counter (bumped here) is below the limit
    const guard = l.counter
      ? ` local.get ${l.counter} i32.const 1 i32.add local.tee ${l.counter} i32.const ${l.limit} i32.lt_u i32.and`
      : "";
    return [this.seq(types, depth - 1), " ", this.expr("i32", depth - 1), `${guard} br_if ${l.name}`];
  }

  /** br / br_table / return / unreachable: the stack is polymorphic afterwards. */
  polymorphic(depth: number): Node[] | undefined {
    const r = this.r;
    const c = r.int(10);
    if (c < 2) return [this.seq(this.sig.results, depth - 1), " return"];
    if (c < 3 && this.mod.opts.traps && r.bool(0.3)) return ["unreachable"];
    const ls = this.labels.filter((l) => l.branchable);
    if (!ls.length) return undefined;
    const l = r.pick(ls);
    if (c < 6) return [this.seq(l.types, depth - 1), ` br ${l.name}`];
    const targets = ls.filter((x) => sameTypes(x.types, l.types));
    const names = Array.from({ length: 1 + r.int(4) }, () => r.pick(targets).name);
    return [this.seq(l.types, depth - 1), " ", this.expr("i32", depth - 1), ` br_table ${names.join(" ")} ${l.name}`];
  }

  /** Code that leaves the stack as it found it. */
  stmt(depth: number): Node {
    this.work += this.mult;
    const r = this.r;
    const c = r.int(100);
    const d = depth - 1;
    let parts: Node[] | undefined;
    if (depth <= 0 || this.tired()) parts = [];
    else if (c < 20) {
      const t = r.pick(TYPES);
      const l = this.localOf(t);
      parts = l ? [this.expr(t, d), ` local.set ${l}`] : [];
    } else if (c < 30) {
      const g = r.pick(GLOBALS.filter((x) => x.mutable));
      parts = [this.expr(g.type, d), ` global.set ${g.name}`];
    } else if (c < 48) {
      if (r.bool(0.35)) parts = this.arrayStore(d);
      else {
        const [t, ins, w] = r.pick(STORES);
        parts = [...this.address(d), " ", this.expr(t, d), this.canon(t), ` ${ins}${this.memarg(w)}`];
      }
    } else if (c < 52) {
      parts = [this.expr("i32", d), ` i32.const ${ADDR_MASK} i32.and `, this.expr("i32", d), " ", this.expr("i32", d), ` i32.const ${LEN_MASK} i32.and memory.fill`];
    } else if (c < 56) {
      parts = [this.expr("i32", d), ` i32.const ${ADDR_MASK} i32.and `, this.expr("i32", d), ` i32.const ${ADDR_MASK} i32.and `, this.expr("i32", d), ` i32.const ${LEN_MASK} i32.and memory.copy`];
    } else if (c < 66) {
      const types = this.randTypes(3);
      parts = [this.seq(types, d), types.map(() => " drop").join("")];
    } else if (c < 76) parts = this.seq([], d, true).parts;
    else if (c < 84) {
      const ls = this.labels.filter((l) => l.branchable && l.types.length === 0);
      parts = ls.length ? [this.expr("i32", d), ` br_if ${r.pick(ls).name}`] : [];
    } else if (c < 88) parts = this.polymorphic(d) ?? [];
    else {
      const t = r.pick(TYPES);
      parts = [this.expr(t, d), " drop"];
    }
    return this.span("stmt", [], parts ?? []);
  }
}

function sameTypes(a: ValType[], b: ValType[]): boolean {
  return a.length === b.length && a.every((t, i) => t === b[i]);
}

export interface Program {
  index: number;
  sig: Sig;
  args: string[];
  body: Node;
  locals: string;
}

export class ModuleGen {
  nextId = 0;
  helpers: Helper[] = [];
  constructor(readonly seed: number, readonly opts: GenOptions) {
    const r = new Rng(seed ^ 0x5eed);
    const n = 16 + r.int(8);
    for (let i = 0; i < n; i++) {
      const sig = { params: this.randTypesFrom(r, r.bool(0.8) ? 4 : 9), results: this.randTypesFrom(r, r.bool(0.7) ? 1 : r.bool(0.8) ? 3 : 6) };
      const name = `$h${i}`;
      let self: { name: string; fuelParam: number } | undefined;
      if (r.bool(0.2) && sig.results.length === 1) {
        sig.params.unshift("i32");
        self = { name, fuelParam: 0 };
      }
      const g = new FuncGen(r, this, sig, this.helpers.slice(), 60, self);
      const fuelFix = self ? "local.get 0 i32.const 7 i32.and local.set 0 " : "";
      const body = g.funcBody(5);
      const text = `(func ${name}${g.blockType(sig.params, sig.results)} ${g.localDecls()}\n  ${fuelFix}${body.map((b) => render(b)).join("")})`;
      this.helpers.push({ ...sig, name, cost: g.work * (self ? 8 : 1), text });
    }
  }
  randTypesFrom(r: Rng, max: number): ValType[] {
    return Array.from({ length: r.int(max + 1) }, () => r.pick(TYPES));
  }
  tableIndex(h: Helper): number { return this.helpers.indexOf(h); }

  program(index: number): Program {
    const r = new Rng(programSeed(this.seed, index));
    const sig = { params: this.randTypesFrom(r, 4), results: this.randTypesFrom(r, 1 + r.int(3)) };
    const g = new FuncGen(r, this, sig, this.helpers, 400);
    const body = g.span("stmt", sig.results, g.funcBody(6 + r.int(3)));
    const args = sig.params.map((t) => randConst(r, t));
    return { index, sig, args, body, locals: g.localDecls() };
  }
}

/** Text of a tree; spans whose id is in `cut` are replaced by constants (expr) or nothing (stmt). */
export function render(n: Node, cut?: Set<number>): string {
  if (typeof n === "string") return n;
  if (cut?.has(n.id)) return n.kind === "stmt" ? "" : n.types.map((t) => `${t}.const 0 `).join("");
  return n.parts.map((p) => render(p, cut)).join("");
}

/** All spans of a tree, outermost first. */
export function spans(n: Node, out: Span[] = []): Span[] {
  if (typeof n === "string") return out;
  out.push(n);
  for (const p of n.parts) spans(p, out);
  return out;
}

function blockTypeText(params: ValType[], results: ValType[]): string {
  return `${params.length ? ` (param ${params.join(" ")})` : ""}${results.length ? ` (result ${results.join(" ")})` : ""}`;
}

export function programText(p: Program, cut?: Set<number>): string {
  return `(func $prog_${p.index}${blockTypeText(p.sig.params, p.sig.results)} ${p.locals}\n  ${render(p.body, cut)})`;
}

function runnerText(p: Program): string {
  const locals = p.sig.results.map((t, i) => `(local $r${i} ${t})`).join(" ");
  const pops = p.sig.results.map((_, i) => `local.set $r${p.sig.results.length - 1 - i}`).join(" ");
  const prints = p.sig.results.map((t, i) => `local.get $r${i} call $print_${t}`).join(" ");
  return `(func $run_${p.index} ${locals}
  call $reset i32.const ${MSG_P} i32.const 1 f64.const ${p.index} f64.const 0 f64.const 0 f64.const 0 f64.const 0 call $trace
  ${p.args.join(" ")} call $prog_${p.index} ${pops}
  ${prints} call $print_state)`;
}

function bytesText(bytes: number[]): string {
  return bytes.map((b) => `\\${b.toString(16).padStart(2, "0")}`).join("");
}

/** The fixed part of every module: imports, memory, table, globals, printers, reset. */
function prelude(gen: ModuleGen): string {
  const r = new Rng(gen.seed ^ 0xda7a);
  const data: string[] = [];
  for (let i = 0; i < 12; i++) {
    const at = PRISTINE + r.int(WORK_BYTES - 256);
    data.push(`(data (i32.const ${at}) "${bytesText(Array.from({ length: 16 + r.int(200) }, () => r.int(256)))}")`);
  }
  const header = (a: { base: number; bytes: number }) => [0, PRISTINE].map((at) =>
    `(data (i32.const ${at + a.base - 4}) "${bytesText([a.bytes & 0xff, a.bytes >> 8, 0, 0])}")`).join(" ");
  const arrays = [...ARRAYS.map(header), ...(gen.opts.traps ? [header(OVERLAPPING)] : [])].join("\n  ");
  const str = (at: number, s: string) => `(data (i32.const ${at - 4}) "${bytesText([s.length * 2, 0, 0, 0, ...[...s].flatMap((ch) => [ch.charCodeAt(0), 0])])}")`;
  const globalHash = GLOBALS.map((g) => {
    const v = g.type === "i32" ? `global.get ${g.name} i64.extend_i32_u`
      : g.type === "i64" ? `global.get ${g.name}`
      : g.type === "f32" ? `global.get ${g.name} call $canon_f32 i32.reinterpret_f32 i64.extend_i32_u`
      : `global.get ${g.name} call $canon_f64 i64.reinterpret_f64`;
    return `local.get $h ${v} i64.xor i64.const 1099511628211 i64.mul local.set $h`;
  }).join("\n    ");
  const elems = gen.helpers.map((h) => h.name).join(" ");
  return `
  (import "env" "trace" (func $trace (param i32 i32 f64 f64 f64 f64 f64)))
  (memory (export "memory") 2 ${MAX_PAGES})
  (table ${TABLE_SIZE} funcref)
  (elem (i32.const 0) func ${elems})
  ${GLOBALS.map((g) => `(global ${g.name} ${g.mutable ? `(mut ${g.type})` : g.type} (${g.init}))`).join("\n  ")}
  ${ARRAYS.map((a, j) => `(global $array${j} i32 (i32.const ${a.base}))`).join(" ")}
  ${data.join("\n  ")}
  ${arrays}
  ${str(MSG_P, "p")}
  ${str(MSG_R, "r")}
  (func $p32 (param $v i32)
    i32.const ${MSG_R} i32.const 1 local.get $v f64.convert_i32_s f64.const 0 f64.const 0 f64.const 0 f64.const 0 call $trace)
  (func $p64 (param $v i64)
    i32.const ${MSG_R} i32.const 2 local.get $v i64.const 32 i64.shr_s i32.wrap_i64 f64.convert_i32_s
    local.get $v i32.wrap_i64 f64.convert_i32_u f64.const 0 f64.const 0 f64.const 0 call $trace)
  (func $canon_f32 (param $v f32) (result f32)
    local.get $v f32.const nan local.get $v local.get $v f32.eq select)
  (func $canon_f64 (param $v f64) (result f64)
    local.get $v f64.const nan local.get $v local.get $v f64.eq select)
  (func $print_i32 (param $v i32) local.get $v call $p32)
  (func $print_i64 (param $v i64) local.get $v call $p64)
  (func $print_f32 (param $v f32) local.get $v call $canon_f32 i32.reinterpret_f32 call $p32)
  (func $print_f64 (param $v f64) local.get $v call $canon_f64 i64.reinterpret_f64 call $p64)
  (func $print_state (local $i i32) (local $h i64)
    i64.const 0xcbf29ce484222325 local.set $h
    loop $l
      local.get $h local.get $i i64.load i64.xor i64.const 1099511628211 i64.mul local.set $h
      local.get $i i32.const 8 i32.add local.tee $i i32.const ${ARRAY_END} i32.lt_u br_if $l
    end
    local.get $h call $p64
    i64.const 0xcbf29ce484222325 local.set $h
    ${globalHash}
    local.get $h call $p64
    memory.size call $p32)
  (func $reset
    i32.const 0 i32.const ${PRISTINE} i32.const ${ARRAY_END} memory.copy
    ${GLOBALS.filter((g) => g.mutable).map((g) => `${g.init} global.set ${g.name}`).join(" ")})
  ${gen.helpers.map((h) => h.text).join("\n  ")}`;
}

export interface GeneratedModule {
  seed: number;
  gen: ModuleGen;
  programs: Program[];
}

export function generateModule(seed: number, count: number, opts: GenOptions = {}): GeneratedModule {
  const gen = new ModuleGen(seed, opts);
  const programs = Array.from({ length: count }, (_, i) => gen.program(i));
  return { seed, gen, programs };
}

/** Module text holding `programs` (each possibly with some spans cut). */
export function moduleText(gen: ModuleGen, programs: { program: Program; cut?: Set<number> }[]): string {
  const funcs = programs.map(({ program, cut }) => `${programText(program, cut)}\n  ${runnerText(program)}`);
  const calls = programs.map(({ program }) => `call $run_${program.index}`).join(" ");
  return `(module ${prelude(gen)}\n  ${funcs.join("\n  ")}\n  (func (export "main") ${calls}))\n`;
}
