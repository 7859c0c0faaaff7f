/**
 * WebAssembly module validation: checks that a decoded WasmModule is valid, and small helpers
 * that a translator needs to type the function index space and block signatures.
 *
 * Spec: WebAssembly Core Specification 2.0, ch. 3 "Validation": 3.2 types (limits, memory page
 * bound), 3.3 instructions (typed by the worklist of the appendix "Validation Algorithm",
 * 7.3 / A.3: an operand stack with an Unknown type below unreachable code and a control stack
 * of frames), 3.3.10 constant expressions, 3.4 modules (imports, globals, element and data
 * segments, start function, export name uniqueness, C.refs for ref.func, one memory at most).
 *
 * Errors are WasmError; function-body errors name the function index (and its name-section
 * name, if any) and carry the byte offset of the offending instruction. The leading words of
 * each message are the spec test suite's `assert_invalid` texts ("type mismatch", "unknown
 * local", ...).
 */
import { OPCODES, type OpInfo } from "./opcodes.ts";
import { LazyFunc, WasmError } from "./reader.ts";
import type { BlockType, FuncType, GlobalType, Instr, Limits, TableType, ValType, WasmModule } from "./types.ts";

/** Number of imported functions: defined function i has index importedFuncCount(m) + i. */
export function importedFuncCount(m: WasmModule): number {
  let n = 0;
  for (const imp of m.imports) if (imp.desc.kind === "func") n++;
  return n;
}

/** The type of function `funcIndex` in the whole function index space (imports first). */
export function funcType(m: WasmModule, funcIndex: number): FuncType {
  let i = funcIndex;
  for (const imp of m.imports) {
    if (imp.desc.kind !== "func") continue;
    if (i === 0) return typeAt(m, imp.desc.typeIndex, 0);
    i--;
  }
  const f = m.funcs[i];
  if (!f) throw new WasmError(`unknown function ${funcIndex}`, 0);
  return typeAt(m, f.typeIndex, f.bodyOffset);
}

/** Block signatures without a type index, shared: callers must not modify a signature. */
const EMPTY_SIGNATURE: FuncType = { params: [], results: [] };
const VALUE_SIGNATURES = new Map<ValType, FuncType>();

/** The [params] -> [results] of a block, loop or if (shared with other callers: read-only). */
export function blockSignature(m: WasmModule, bt: BlockType): FuncType {
  switch (bt.kind) {
    case "empty": return EMPTY_SIGNATURE;
    case "val": {
      let sig = VALUE_SIGNATURES.get(bt.type);
      if (sig === undefined) VALUE_SIGNATURES.set(bt.type, (sig = { params: [], results: [bt.type] }));
      return sig;
    }
    case "type": return typeAt(m, bt.index, 0);
  }
}

function typeAt(m: WasmModule, index: number, offset: number): FuncType {
  const t = m.types[index];
  if (!t) throw new WasmError(`unknown type ${index}`, offset);
  return t;
}

const MAX_PAGES = 65536; // 3.2.4: 2^16 pages of 64 KiB = 4 GiB

/** Module-wide context C (3.1.1). */
interface Context {
  m: WasmModule;
  funcs: number[];          // type index per function (whole index space)
  tables: TableType[];
  mems: Limits[];
  globals: GlobalType[];
  importedGlobals: number;
  elems: ValType[];
  dataCount: number;
  refs: Set<number>;        // C.refs: functions that ref.func may name
}

const isRef = (t: ValType | Unknown): boolean => t === "funcref" || t === "externref" || t === UNKNOWN;
const isNumOrVec = (t: ValType | Unknown): boolean => !isRef(t) || t === UNKNOWN;

/** 3.4 module validation. Throws WasmError for the first violation found. */
export function validateModule(m: WasmModule): void {
  const c: Context = {
    m, funcs: [], tables: [], mems: [], globals: [], importedGlobals: 0, elems: [],
    dataCount: m.dataCount ?? m.datas.length, refs: new Set(),
  };
  for (const imp of m.imports) {
    const d = imp.desc;
    switch (d.kind) {
      case "func": typeAt(m, d.typeIndex, 0); c.funcs.push(d.typeIndex); break;
      case "table": checkTableType(d.table); c.tables.push(d.table); break;
      case "memory": checkMemType(d.limits); c.mems.push(d.limits); break;
      case "global": c.globals.push(d.global); c.importedGlobals++; break;
    }
  }
  for (const f of m.funcs) {
    typeAt(m, f.typeIndex, f.bodyOffset);
    c.funcs.push(f.typeIndex);
  }
  for (const t of m.tables) { checkTableType(t); c.tables.push(t); }
  for (const l of m.memories) { checkMemType(l); c.mems.push(l); }
  if (c.mems.length > 1) throw new WasmError("multiple memories", 0);
  for (const e of m.elems) c.elems.push(e.elemType);

  // C.refs: every function index named outside function bodies (3.4.10).
  const collect = (expr: Instr[] | undefined) => {
    for (const ins of expr ?? []) if (ins.op === 0xd2) c.refs.add(ins.index!);
  };
  for (const g of m.globals) collect(g.init);
  for (const e of m.elems) { collect(e.offset); e.init.forEach(collect); }
  for (const d of m.datas) collect(d.offset);
  for (const ex of m.exports) if (ex.kind === "func") c.refs.add(ex.index);

  // Globals: initialisers see only the imported globals (3.4.10, context C').
  m.globals.forEach((g, i) => {
    checkConstExpr(c, g.init, g.type.type, `global ${c.importedGlobals + i}`);
    c.globals.push(g.type);
  });
  m.elems.forEach((e, i) => {
    for (const init of e.init) checkConstExpr(c, init, e.elemType, `elem ${i}`);
    if (e.mode === "active") {
      const t = c.tables[e.table];
      if (!t) throw new WasmError(`unknown table ${e.table} in elem ${i}`, e.offset?.[0]?.offset ?? 0);
      if (t.elem !== e.elemType) throw new WasmError(`type mismatch: elem ${i} of ${e.elemType} for a table of ${t.elem}`, e.offset?.[0]?.offset ?? 0);
      checkConstExpr(c, e.offset!, "i32", `elem ${i} offset`);
    }
  });
  m.datas.forEach((d, i) => {
    if (d.mode !== "active") return;
    if (!c.mems[d.memory]) throw new WasmError(`unknown memory ${d.memory} in data ${i}`, d.offset?.[0]?.offset ?? 0);
    checkConstExpr(c, d.offset!, "i32", `data ${i} offset`);
  });
  if (m.start !== undefined) {
    const ti = c.funcs[m.start];
    if (ti === undefined) throw new WasmError(`unknown function ${m.start} (start)`, 0);
    const t = m.types[ti];
    if (t.params.length || t.results.length) throw new WasmError(`start function ${m.start} must have type [] -> []`, 0);
  }
  const exportNames = new Set<string>();
  for (const ex of m.exports) {
    if (exportNames.has(ex.name)) throw new WasmError(`duplicate export name "${ex.name}"`, 0);
    exportNames.add(ex.name);
    const space = { func: c.funcs, table: c.tables, memory: c.mems, global: c.globals }[ex.kind];
    if (ex.index >= space.length) {
      throw new WasmError(`unknown ${ex.kind === "func" ? "function" : ex.kind} ${ex.index} (export "${ex.name}")`, 0);
    }
  }
  const base = c.funcs.length - m.funcs.length;
  m.funcs.forEach((f, i) => {
    // A body not decoded yet (ReadOptions.lazyBodies) is validated when it is (LazyFunc.check).
    if (f instanceof LazyFunc && !f.isDecoded) f.check = () => new FuncValidator(c, base + i).run();
    else new FuncValidator(c, base + i).run();
  });
}

function checkLimits(l: Limits, bound: number, what: string): void {
  if (l.min > bound) throw new WasmError(`${what}`, 0);
  if (l.max !== undefined) {
    if (l.max > bound) throw new WasmError(`${what}`, 0);
    if (l.min > l.max) throw new WasmError("size minimum must not be greater than maximum", 0);
  }
}
function checkTableType(t: TableType): void {
  checkLimits(t.limits, 0xffffffff, "table size must be at most 2^32-1");
}
function checkMemType(l: Limits): void {
  checkLimits(l, MAX_PAGES, "memory size must be at most 65536 pages (4GiB)");
}

/** 3.3.10 constant expressions: only *.const, ref.null, ref.func and global.get of an immutable import. */
function checkConstExpr(c: Context, expr: Instr[], expected: ValType, where: string): void {
  const stack: ValType[] = [];
  for (const ins of expr) {
    switch (ins.op) {
      case 0x41: stack.push("i32"); break;
      case 0x42: stack.push("i64"); break;
      case 0x43: stack.push("f32"); break;
      case 0x44: stack.push("f64"); break;
      case 0xfd0c: stack.push("v128"); break;
      case 0xd0: stack.push(ins.refType!); break;
      case 0xd2:
        if (ins.index! >= c.funcs.length) throw new WasmError(`unknown function ${ins.index} in ${where}`, ins.offset);
        stack.push("funcref");
        break;
      case 0x23: {
        // 2.0: constant expressions may read imported globals only, and only immutable ones.
        if (ins.index! >= c.importedGlobals) throw new WasmError(`unknown global ${ins.index} in ${where}`, ins.offset);
        const g = c.globals[ins.index!];
        if (g.mutable) throw new WasmError(`constant expression required: global ${ins.index} is mutable (${where})`, ins.offset);
        stack.push(g.type);
        break;
      }
      default:
        throw new WasmError(`constant expression required: ${ins.name} in ${where}`, ins.offset);
    }
  }
  if (stack.length !== 1 || stack[0] !== expected) {
    throw new WasmError(`type mismatch: ${where} must produce [${expected}], got [${stack.join(" ")}]`, expr[0]?.offset ?? 0);
  }
}

// ---------------------------------------------------------------------------------------------
// Function bodies: the appendix algorithm (A.3 / 7.3 "Validation Algorithm").

const UNKNOWN = "unknown" as const;
type Unknown = typeof UNKNOWN;
type Operand = ValType | Unknown;

interface CtrlFrame {
  op: number;          // 0x02 block, 0x03 loop, 0x04 if, 0x05 else, 0x00 function
  start: ValType[];
  end: ValType[];
  height: number;
  unreachable: boolean;
}

/** The typing facts of an opcode table entry, in objects of one shape (OpInfo's optional fields give it several). */
type Typing = Pick<OpInfo, "sig" | "maxAlign" | "laneCount">;
const typing = (o: OpInfo): Typing => ({ sig: o.sig, maxAlign: o.maxAlign, laneCount: o.laneCount });
/** The one-byte opcodes by opcode, and the prefixed ones. */
const BYTE_OPCODE_TYPING: (Typing | undefined)[] = new Array(256).fill(undefined);
const PREFIXED_OPCODE_TYPING = new Map<number, Typing>();
for (const o of OPCODES) {
  if (o.op <= 0xff) BYTE_OPCODE_TYPING[o.op] = typing(o);
  else PREFIXED_OPCODE_TYPING.set(o.op, typing(o));
}

class FuncValidator {
  private vals: Operand[] = [];
  private ctrls: CtrlFrame[] = [];
  private locals: ValType[];
  private ins!: Instr;
  private readonly type: FuncType;

  constructor(private c: Context, private funcIndex: number) {
    const f = c.m.funcs[funcIndex - (c.funcs.length - c.m.funcs.length)];
    this.type = c.m.types[f.typeIndex];
    this.locals = this.type.params.concat(f.locals);
    this.body = f.body;
  }
  private body: Instr[];

  private fail(message: string): never {
    const name = this.c.m.names.functions.get(this.funcIndex);
    const fn = `func ${this.funcIndex}${name !== undefined ? ` "${name}"` : ""}`;
    throw new WasmError(`${message} (in ${fn}, at ${this.ins.name})`, this.ins.offset);
  }

  private push(t: Operand): void {
    this.vals.push(t);
  }
  private pushAll(ts: readonly ValType[]): void {
    for (const t of ts) this.vals.push(t);
  }
  private pop(): Operand {
    const frame = this.ctrls[this.ctrls.length - 1];
    if (this.vals.length === frame.height) {
      if (frame.unreachable) return UNKNOWN;
      this.fail("type mismatch: operand stack underflow");
    }
    return this.vals.pop()!;
  }
  private popExpect(expect: Operand): Operand {
    const actual = this.pop();
    if (actual !== expect && actual !== UNKNOWN && expect !== UNKNOWN) {
      this.fail(`type mismatch: expected ${expect}, got ${actual}`);
    }
    return actual;
  }
  private popAll(ts: readonly ValType[]): void {
    for (let i = ts.length - 1; i >= 0; i--) this.popExpect(ts[i]);
  }
  /** popAll, returning the operands popped (br_table pushes them back: they may be `unknown`). */
  private popAllOperands(ts: readonly ValType[]): Operand[] {
    const out: Operand[] = new Array(ts.length);
    for (let i = ts.length - 1; i >= 0; i--) out[i] = this.popExpect(ts[i]);
    return out;
  }
  private pushCtrl(op: number, start: ValType[], end: ValType[]): void {
    this.ctrls.push({ op, start, end, height: this.vals.length, unreachable: false });
    this.pushAll(start);
  }
  private popCtrl(): CtrlFrame {
    if (this.ctrls.length === 0) this.fail("unexpected end");
    const frame = this.ctrls[this.ctrls.length - 1];
    this.popAll(frame.end);
    if (this.vals.length !== frame.height) this.fail("type mismatch: values remain on the stack at the end of the block");
    this.ctrls.pop();
    return frame;
  }
  private labelTypes(frame: CtrlFrame): ValType[] {
    return frame.op === 0x03 ? frame.start : frame.end;
  }
  private label(depth: number): CtrlFrame {
    if (depth >= this.ctrls.length) this.fail(`unknown label ${depth}`);
    return this.ctrls[this.ctrls.length - 1 - depth];
  }
  private unreachable(): void {
    const frame = this.ctrls[this.ctrls.length - 1];
    this.vals.length = frame.height;
    frame.unreachable = true;
  }

  private table(index: number): TableType {
    const t = this.c.tables[index];
    if (!t) this.fail(`unknown table ${index}`);
    return t;
  }
  private memory(index: number): void {
    if (!this.c.mems[index]) this.fail(`unknown memory ${index}`);
  }
  private local(index: number): ValType {
    const t = this.locals[index];
    if (t === undefined) this.fail(`unknown local ${index}`);
    return t;
  }
  private global(index: number): GlobalType {
    const g = this.c.globals[index];
    if (!g) this.fail(`unknown global ${index}`);
    return g;
  }
  private funcSig(index: number): FuncType {
    const ti = this.c.funcs[index];
    if (ti === undefined) this.fail(`unknown function ${index}`);
    return this.c.m.types[ti];
  }
  private typeSig(index: number): FuncType {
    const t = this.c.m.types[index];
    if (!t) this.fail(`unknown type ${index}`);
    return t;
  }
  private blockSig(bt: BlockType): FuncType {
    if (bt.kind === "type") return this.typeSig(bt.index);
    return blockSignature(this.c.m, bt);
  }
  private elemSegment(index: number): ValType {
    const t = this.c.elems[index];
    if (t === undefined) this.fail(`unknown elem segment ${index}`);
    return t;
  }
  private dataSegment(index: number): void {
    if (index >= this.c.dataCount) this.fail(`unknown data segment ${index}`);
  }

  run(): void {
    this.ins = this.body[0] ?? { op: 0, name: "function", offset: 0 };
    this.pushCtrl(0x00, [], this.type.results);
    for (const ins of this.body) {
      this.ins = ins;
      if (this.ctrls.length === 0) this.fail("unexpected content after the function's end");
      this.step(ins);
    }
    if (this.ctrls.length !== 0) this.fail("unexpected end: function body not closed");
  }

  private step(ins: Instr): void {
    switch (ins.op) {
      case 0x00: // unreachable
        this.unreachable();
        return;
      case 0x02: // block
      case 0x03: { // loop
        const sig = this.blockSig(ins.blockType!);
        this.popAll(sig.params);
        this.pushCtrl(ins.op, sig.params, sig.results);
        return;
      }
      case 0x04: { // if
        const sig = this.blockSig(ins.blockType!);
        this.popExpect("i32");
        this.popAll(sig.params);
        this.pushCtrl(ins.op, sig.params, sig.results);
        return;
      }
      case 0x05: { // else
        const top = this.ctrls[this.ctrls.length - 1];
        if (!top || top.op !== 0x04) this.fail("else without matching if");
        const frame = this.popCtrl();
        this.pushCtrl(0x05, frame.start, frame.end);
        return;
      }
      case 0x0b: { // end
        const frame = this.popCtrl();
        // An `if` without `else` behaves as if the else branch passed its parameters through.
        if (frame.op === 0x04 && !sameTypes(frame.start, frame.end)) this.fail("type mismatch: if without else must have matching parameter and result types");
        this.pushAll(frame.end);
        return;
      }
      case 0x0c: // br
        this.popAll(this.labelTypes(this.label(ins.depth!)));
        this.unreachable();
        return;
      case 0x0d: { // br_if
        this.popExpect("i32");
        const types = this.labelTypes(this.label(ins.depth!));
        this.popAll(types);
        this.pushAll(types);
        return;
      }
      case 0x0e: { // br_table
        this.popExpect("i32");
        const defaultTypes = this.labelTypes(this.label(ins.defaultTarget!));
        for (const t of ins.targets!) {
          const types = this.labelTypes(this.label(t));
          if (types.length !== defaultTypes.length) this.fail("type mismatch: br_table targets have different arities");
          const popped = this.popAllOperands(types);
          for (const p of popped) this.push(p);
        }
        this.popAll(defaultTypes);
        this.unreachable();
        return;
      }
      case 0x0f: // return
        this.popAll(this.type.results);
        this.unreachable();
        return;
      case 0x10: { // call
        const sig = this.funcSig(ins.index!);
        this.popAll(sig.params);
        this.pushAll(sig.results);
        return;
      }
      case 0x11: { // call_indirect
        const t = this.table(ins.table!);
        if (t.elem !== "funcref") this.fail(`type mismatch: call_indirect through a table of ${t.elem}`);
        const sig = this.typeSig(ins.typeIndex!);
        this.popExpect("i32");
        this.popAll(sig.params);
        this.pushAll(sig.results);
        return;
      }
      case 0x1a: // drop
        this.pop();
        return;
      case 0x1b: { // select
        this.popExpect("i32");
        const t1 = this.pop();
        const t2 = this.pop();
        if (!(isNumOrVec(t1) && isNumOrVec(t2))) this.fail("type mismatch: select without types needs numeric or vector operands");
        if (t1 !== t2 && t1 !== UNKNOWN && t2 !== UNKNOWN) this.fail(`type mismatch: select of ${t1} and ${t2}`);
        this.push(t1 === UNKNOWN ? t2 : t1);
        return;
      }
      case 0x1c: { // select t
        if (ins.selectTypes!.length !== 1) this.fail("invalid result arity: typed select needs exactly one type");
        const t = ins.selectTypes![0];
        this.popExpect("i32");
        this.popExpect(t);
        this.popExpect(t);
        this.push(t);
        return;
      }
      case 0x20: // local.get
        this.push(this.local(ins.index!));
        return;
      case 0x21: // local.set
        this.popExpect(this.local(ins.index!));
        return;
      case 0x22: { // local.tee
        const t = this.local(ins.index!);
        this.popExpect(t);
        this.push(t);
        return;
      }
      case 0x23: // global.get
        this.push(this.global(ins.index!).type);
        return;
      case 0x24: { // global.set
        const g = this.global(ins.index!);
        if (!g.mutable) this.fail(`global is immutable: global ${ins.index}`);
        this.popExpect(g.type);
        return;
      }
      case 0x25: { // table.get
        const t = this.table(ins.index!);
        this.popExpect("i32");
        this.push(t.elem);
        return;
      }
      case 0x26: { // table.set
        const t = this.table(ins.index!);
        this.popExpect(t.elem);
        this.popExpect("i32");
        return;
      }
      case 0xfc0c: { // table.init
        const t = this.table(ins.dst!);
        const e = this.elemSegment(ins.segment!);
        if (t.elem !== e) this.fail(`type mismatch: table.init of ${e} into a table of ${t.elem}`);
        break; // [i32 i32 i32] -> []
      }
      case 0xfc0d: // elem.drop
        this.elemSegment(ins.index!);
        return;
      case 0xfc0e: { // table.copy
        const d = this.table(ins.dst!);
        const s = this.table(ins.src!);
        if (d.elem !== s.elem) this.fail(`type mismatch: table.copy from ${s.elem} to ${d.elem}`);
        break;
      }
      case 0xfc0f: { // table.grow
        const t = this.table(ins.index!);
        this.popExpect("i32");
        this.popExpect(t.elem);
        this.push("i32");
        return;
      }
      case 0xfc10: // table.size
        this.table(ins.index!);
        break;
      case 0xfc11: { // table.fill
        const t = this.table(ins.index!);
        this.popExpect("i32");
        this.popExpect(t.elem);
        this.popExpect("i32");
        return;
      }
      case 0x3f: // memory.size
      case 0x40: // memory.grow
      case 0xfc0b: // memory.fill
        this.memory(ins.index!);
        break;
      case 0xfc08: // memory.init
        this.memory(ins.dst!);
        this.dataSegment(ins.segment!);
        break;
      case 0xfc09: // data.drop
        this.dataSegment(ins.index!);
        return;
      case 0xfc0a: // memory.copy
        this.memory(ins.dst!);
        this.memory(ins.src!);
        break;
      case 0xd0: // ref.null
        this.push(ins.refType!);
        return;
      case 0xd1: { // ref.is_null
        const t = this.pop();
        if (!isRef(t)) this.fail(`type mismatch: ref.is_null of ${t}`);
        this.push("i32");
        return;
      }
      case 0xd2: // ref.func
        this.funcSig(ins.index!);
        if (!this.c.refs.has(ins.index!)) this.fail(`undeclared function reference ${ins.index}`);
        this.push("funcref");
        return;
      case 0xfd0d: // i8x16.shuffle
        for (const l of ins.lanes!) if (l >= 32) this.fail(`invalid lane index ${l}`);
        break;
    }
    // Everything else (and the cases that `break` above) has a fixed type in the opcode table;
    // memory accesses also check alignment and lane indices.
    const info = (ins.op < 256 ? BYTE_OPCODE_TYPING[ins.op] : PREFIXED_OPCODE_TYPING.get(ins.op))!;
    if (info.maxAlign !== undefined) {
      this.memory(0);
      if (ins.align! > info.maxAlign) this.fail(`alignment must not be larger than natural (2^${ins.align} > ${1 << info.maxAlign})`);
    }
    if (info.laneCount !== undefined && ins.lane !== undefined && ins.lane >= info.laneCount) {
      this.fail(`invalid lane index ${ins.lane}`);
    }
    const sig = info.sig;
    if (!sig) this.fail(`internal error: no typing rule for ${ins.name}`);
    this.popAll(sig.params);
    this.pushAll(sig.results);
  }
}

function sameTypes(a: readonly ValType[], b: readonly ValType[]): boolean {
  return a.length === b.length && a.every((t, i) => t === b[i]);
}
