/**
 * Inlining of small functions: a pre-pass over a function body, before the one-pass translator
 * (function.ts) sees it. A `call` to a small function of the same module is replaced by that
 * function's body, wrapped in a `block` with the callee's results, so the translator emits it like
 * any other code: no argument pushes, no frame, no return, and the callee's operators fold with the
 * caller's (constant indices become immediates, locals stay in registers).
 *
 * Semantics are those of the call (WebAssembly core spec §4.4.10 `call`, §4.5.5 function
 * invocation): arguments are evaluated by the caller before the body runs, the callee's locals
 * start at zero on every entry, `return` leaves the callee only. The expansion keeps exactly that:
 *  - each inlined callee gets its own region of the caller's locals (its parameters, then its
 *    declared locals), shared by all call sites of that callee in this caller (an inlined body
 *    never contains another inlined call, so two expansions are never live at once);
 *  - arguments are popped into the region in reverse order (`local.set`), except trailing
 *    arguments produced by a side-effect-free operator right before the call (`local.get`, a
 *    constant, `global.get` when the callee writes no global and makes no call that returns),
 *    which are substituted into the body for the parameter when the callee never writes that
 *    parameter; a trailing `local.tee x` becomes `local.set x` with `local.get x` substituted;
 *    an earlier argument made by one such operator is substituted too when the code computing the
 *    later arguments cannot change its value (`substituteEarlier`);
 *  - declared locals are zeroed at the start of every expansion;
 *  - `return` becomes `br` to the wrapping block; branches to the callee's function label already
 *    target that block (same arity); the callee's final `end` closes it.
 * Only one level is expanded: calls inside an inlined body stay calls, so recursion cannot loop.
 * Two pseudo-operators (INLINE_BEGIN/END) bracket each expansion so the translator can record its
 * code range: a trap in an inlined body still shows the inlined function in the backtrace
 * (ABI.md "Symbol table", inline ranges).
 *
 * What is inlined: functions defined in the module, with one result at most, no v128 values, no
 * call of an intrinsic that reads the caller's frame (`x86.readFramePointer`), and
 * at most INLINE_MAX_OPERATORS operators when called inside a loop (asc's `StaticArray#__get`/
 * `__set` with their bounds check, small getters and arithmetic helpers), at most
 * INLINE_MAX_OPERATORS_OUTSIDE_LOOPS elsewhere (straight-line code runs once per call of its
 * function: the call costs less there, the code size counts more), or INLINE_MAX_CHECKED_OUTSIDE_LOOPS
 * besides its trap arms for a callee with some (a bounds-checked accessor). The cost: code grows where small functions are called
 * often, and an inlined function has no ELF symbol of its own (gdb and perf see its caller).
 */
import type { BlockType, FuncType, Instr, ValType, WasmModule } from "../wasm/types.ts";
import { funcType } from "../wasm/validate.ts";
import { OPCODE_INFO } from "../wasm/opcodes.ts";
import { trapArmEnd } from "./checks.ts";

/** Pseudo-operators around an inlined body (index = the callee): function.ts records the code
 *  range so backtraces can name the inlined function. They have no stack effect. */
export const INLINE_BEGIN = "inline.begin";
export const INLINE_END = "inline.end";
/** Their opcodes: outside the wasm range (negative), so visitors tell them apart with one compare. */
export const OP_INLINE_BEGIN = -1, OP_INLINE_END = -2;

/** Largest callee body inlined inside a loop, in operators (its final `end` not counted). */
export const INLINE_MAX_OPERATORS = 32;
/** Largest callee body inlined outside loops (where a call costs less and code size matters more). */
export const INLINE_MAX_OPERATORS_OUTSIDE_LOOPS = 8;
/**
 * The same for a callee with a trap arm, not counting its arms (`hotSize`): a bounds-checked
 * accessor (asc's `StaticArray#__get`/`__set`: 15 and 16 besides their abort arm), whose check
 * checks.ts may then drop as a repeat (`a[i] += x` after inlining checks once). SHA-256 made 16
 * such calls per block, 8% of its time. Applied to every callee this limit made the generated
 * module's code 6.4% larger and its translation 10-15% slower; applied to these only, hello.elf grew 288 B.
 */
export const INLINE_MAX_CHECKED_OUTSIDE_LOOPS = 16;

interface Callee {
  type: FuncType;
  locals: ValType[];
  body: Instr[];
  /** Operators in the body, its final `end` not counted. */
  size: number;
  /** `size` less its trap arms (checks.ts trapArmEnd: asc's bounds-check aborts), which run only
   *  on the way to a trap; `size` when it has none. */
  hotSize: number;
  /** Parameters the body writes (never substituted). */
  writtenParams: Set<number>;
  /** True when the body writes no global and makes no call except right before `unreachable`. */
  keepsGlobals: boolean;
}

export interface Expanded {
  /** The caller's declared locals followed by the inlined callees' regions. */
  locals: ValType[];
  body: Instr[];
}

const OP_UNREACHABLE = 0x00, OP_BLOCK = 0x02, OP_LOOP = 0x03, OP_IF = 0x04, OP_END = 0x0b, OP_RETURN = 0x0f;
const OP_CALL = 0x10, OP_CALL_INDIRECT = 0x11, OP_LOCAL_GET = 0x20, OP_LOCAL_SET = 0x21, OP_LOCAL_TEE = 0x22, OP_GLOBAL_SET = 0x24;
const OP_V128_CONST = 0xfd0c;
/** Tail calls (proposal opcodes): a callee making one is never inlined. */
const OP_RETURN_CALL = 0x12, OP_RETURN_CALL_INDIRECT = 0x13;
const PURE_PUSH = new Set(["local.get", "i32.const", "i64.const", "f32.const", "f64.const", "global.get", "ref.null", "ref.func"]);

export class Inliner {
  private readonly importCount: number;
  /** By function index: undefined until asked (`callee`). */
  private readonly callees: (Callee | null | undefined)[];
  /** Intrinsics whose result depends on the calling function's frame (x86.readFramePointer). */
  private readonly frameSensitive = new Set<number>();

  constructor(private readonly mod: WasmModule) {
    const funcImports = mod.imports.filter((i) => i.desc.kind === "func");
    this.importCount = funcImports.length;
    this.callees = new Array(this.importCount + mod.funcs.length).fill(undefined);
    funcImports.forEach((imp, i) => {
      if (imp.module === "x86" && imp.name === "readFramePointer") this.frameSensitive.add(i);
    });
  }

  /** The body of function `funcIndex` with its calls to small functions expanded (unchanged if none). */
  expand(funcIndex: number, locals: ValType[], body: Instr[]): Expanded {
    let out: Instr[] | null = null;
    const regionLocals: ValType[] = [];
    let regions: Map<number, number> | undefined; // callee -> first local of its region
    const nParams = funcType(this.mod, funcIndex).params.length;
    // Nesting, as a bit per open block (1 = loop) in `nest` while it fits 31 levels, beyond which the
    // deeper blocks count as loops (the larger limit applies: only code size is at stake).
    let nest = 1, deep = 0;
    for (let i = 0; i < body.length; i++) {
      const ins = body[i];
      const op = ins.op;
      if (op === OP_BLOCK || op === OP_LOOP || op === OP_IF) {
        if (nest >= 0x40000000) deep++;
        else nest = (nest << 1) | (op === OP_LOOP ? 1 : 0);
      } else if (op === OP_END) {
        if (deep > 0) deep--;
        else if (nest > 1) nest >>>= 1;
      }
      if (op !== OP_CALL) {
        if (out) out.push(ins);
        continue;
      }
      // Inside a loop: a 1 among the bits below the leading (sentinel) one.
      const inLoops = deep > 0 || (nest & ((1 << (31 - Math.clz32(nest))) - 1)) !== 0;
      let callee = ins.index !== funcIndex ? this.callee(ins.index!) : null;
      if (callee && !inLoops && callee.size > INLINE_MAX_OPERATORS_OUTSIDE_LOOPS &&
        (callee.hotSize === callee.size || callee.hotSize > INLINE_MAX_CHECKED_OUTSIDE_LOOPS)) callee = null;
      if (!callee) {
        if (out) out.push(ins);
        continue;
      }
      out ??= body.slice(0, i);
      let base = (regions ??= new Map()).get(ins.index!);
      if (base === undefined) {
        base = nParams + locals.length + regionLocals.length;
        regions.set(ins.index!, base);
        regionLocals.push(...callee.type.params, ...callee.locals);
      }
      this.emitExpansion(out, callee, base, ins);
    }
    if (!out) return { locals, body };
    return { locals: [...locals, ...regionLocals], body: out };
  }

  /** Appends the inlined body of `callee` (region at local `base`) for the call `call` to `out`. */
  private emitExpansion(out: Instr[], callee: Callee, base: number, call: Instr): void {
    const params = callee.type.params;
    const subst: (Instr | undefined)[] = new Array(params.length).fill(undefined);
    // Trailing side-effect-free producers of the last arguments: substitute them into the body.
    let p = params.length - 1;
    while (p >= 0 && !callee.writtenParams.has(p)) {
      const prev = out[out.length - 1];
      if (prev === undefined) break;
      if (PURE_PUSH.has(prev.name) && (prev.name !== "global.get" || callee.keepsGlobals)) {
        subst[p--] = out.pop();
        continue;
      }
      if (prev.name === "local.tee") {
        out[out.length - 1] = { ...prev, name: "local.set", op: 0x21 };
        subst[p--] = { ...prev, name: "local.get", op: 0x20 };
      }
      break;
    }
    if (p >= 0) this.substituteEarlier(out, callee, subst, p);
    for (; p >= 0; p--) if (!subst[p]) out.push(localOp("local.set", base + p, call.offset));
    callee.locals.forEach((t, j) => {
      out.push(zeroOf(t, call.offset), localOp("local.set", base + params.length + j, call.offset));
    });
    const results = callee.type.results;
    const blockType: BlockType = results.length === 0 ? { kind: "empty" } : { kind: "val", type: results[0] };
    out.push({ op: OP_INLINE_BEGIN, name: INLINE_BEGIN, offset: call.offset, index: call.index });
    out.push({ op: 0x02, name: "block", offset: call.offset, blockType });
    let nesting = 0;
    for (const ins of callee.body) {
      switch (ins.op) {
        case OP_BLOCK: case OP_LOOP: case OP_IF: nesting++; out.push(ins); break;
        case OP_END: nesting--; out.push(ins); break;
        case OP_RETURN: out.push({ op: 0x0c, name: "br", offset: ins.offset, depth: nesting }); break;
        case OP_LOCAL_GET: case OP_LOCAL_SET: case OP_LOCAL_TEE: {
          const i = ins.index!;
          const s = i < params.length ? subst[i] : undefined;
          out.push(s ?? { ...ins, index: base + i });
          break;
        }
        default: out.push(ins);
      }
    }
    out.push({ op: OP_INLINE_END, name: INLINE_END, offset: call.offset });
  }

  /**
   * Arguments 0..last that are not trailing: each one produced by a single side-effect-free push
   * (`local.get`, a constant, `global.get`) is taken out of `out` and substituted like a trailing
   * one, when the code that computes the later arguments leaves its value unchanged: writes no
   * such local (or no global, and calls nothing that returns, for `global.get`). The argument
   * boundaries are found walking back from the call by stack effect (operators of fixed type,
   * local/global access, earlier inlined bodies as a unit); anything else ends the search.
   */
  private substituteEarlier(out: Instr[], callee: Callee, subst: (Instr | undefined)[], last: number): void {
    const writtenLocals = new Set<number>();
    let writesGlobals = false;
    let j = out.length; // out[j..] computes the arguments after the current one
    for (let p = last; p >= 0; p--) {
      // The extent of argument p: the shortest run out[s..j) that pushes one value; when it starts
      // with an inlined body, also the `local.set`s right before it (its parameters and zeroed
      // locals) with what they consume (`i - 16` of `W[i] = W[i - 16] + ...`). Any split that
      // fits the stack effects will do: what counts is that everything after the producer is noted.
      let need = 1, s = j, setup = false;
      for (;;) {
        while (need > 0) {
          if (--s < 0) return;
          const ins = out[s];
          if (ins.op === OP_INLINE_END) {
            let b = s;
            while (out[b].op !== OP_INLINE_BEGIN) {
              if (noteWrites(out, b, writtenLocals)) writesGlobals = true;
              if (--b < 0) return;
            }
            need -= funcType(this.mod, out[b].index!).results.length;
            s = b;
            continue;
          }
          const effect = stackEffect(ins);
          if (effect === undefined) return;
          need -= effect;
          if (noteWrites(out, s, writtenLocals)) writesGlobals = true;
        }
        const before = out[s - 1];
        if (need !== 0 || before?.op !== OP_LOCAL_SET || !(setup || out[s].op === OP_INLINE_BEGIN)) break;
        setup = true;
        need = 1; // the set, as the walk would take it: one more value to find
        s--;
        if (noteWrites(out, s, writtenLocals)) writesGlobals = true;
      }
      if (need < 0) return;
      const producer = out[s];
      if (s === j - 1 && PURE_PUSH.has(producer.name) && !callee.writtenParams.has(p) &&
        !(producer.name === "local.get" && writtenLocals.has(producer.index!)) &&
        !(producer.name === "global.get" && (writesGlobals || !callee.keepsGlobals))) {
        subst[p] = producer;
        out.splice(s, 1);
      }
      j = s;
    }
  }

  /** The function if it may be inlined, else null (memoised). */
  private callee(index: number): Callee | null {
    let c = this.callees[index];
    if (c !== undefined) return c;
    c = null;
    if (index >= this.importCount) {
      const f = this.mod.funcs[index - this.importCount];
      const type = this.mod.types[f.typeIndex];
      if (f.body.length - 1 <= INLINE_MAX_OPERATORS && type.results.length <= 1 &&
        type.params.every(simple) && type.results.every(simple) && f.locals.every(simple) &&
        f.body.every((ins) => ins.op !== OP_V128_CONST && ins.op !== OP_RETURN_CALL && ins.op !== OP_RETURN_CALL_INDIRECT &&
          !(ins.op === OP_CALL && this.frameSensitive.has(ins.index!)))) {
        const writtenParams = new Set<number>();
        let keepsGlobals = true;
        f.body.forEach((ins, k) => {
          const op = ins.op;
          if ((op === OP_LOCAL_SET || op === OP_LOCAL_TEE) && ins.index! < type.params.length) writtenParams.add(ins.index!);
          if (mayWriteGlobals(f.body, k)) keepsGlobals = false;
        });
        c = { type, locals: f.locals, body: f.body, size: f.body.length - 1, hotSize: f.body.length - 1 - trapArmOperators(f.body), writtenParams, keepsGlobals };
      }
    }
    this.callees[index] = c;
    return c;
  }
}

/** How many operators of `body` are in trap arms (checks.ts trapArmEnd), their `end` included. */
function trapArmOperators(body: Instr[]): number {
  let n = 0;
  for (let k = 0; k < body.length; k++) {
    if (body[k].op !== OP_IF) continue;
    const end = trapArmEnd(body, k);
    if (end !== undefined) { n += end - k; k = end; }
  }
  return n;
}

/** A type inlining supports (not v128). */
function simple(t: ValType): boolean {
  return t !== "v128";
}
/** Note what `out[k]` writes: a local into `writtenLocals`; returns whether it may write a global. */
function noteWrites(out: Instr[], k: number, writtenLocals: Set<number>): boolean {
  const op = out[k].op;
  if (op === OP_LOCAL_SET || op === OP_LOCAL_TEE) writtenLocals.add(out[k].index!);
  return mayWriteGlobals(out, k);
}
/** Whether body[k] may change a global: `global.set`, or a call that returns (one right before
 *  `unreachable`, an abort, never comes back to read anything). */
function mayWriteGlobals(body: Instr[], k: number): boolean {
  const op = body[k].op;
  return op === OP_GLOBAL_SET || ((op === OP_CALL || op === OP_CALL_INDIRECT) && body[k + 1]?.op !== OP_UNREACHABLE);
}

/** What an operator does to the operand stack height (pushes minus pops), for the operators an
 *  argument is made of: fixed-type ones (the opcode table's `sig`), local and global access;
 *  undefined for anything else (control flow, calls, polymorphic operators). */
function stackEffect(ins: Instr): number | undefined {
  if (PURE_PUSH.has(ins.name)) return 1;
  switch (ins.name) {
    case "local.tee": return 0;
    case "local.set": case "global.set": return -1;
  }
  if (ins.op < 0) return undefined;
  const sig = OPCODE_INFO.get(ins.op)?.sig;
  return sig ? sig.results.length - sig.params.length : undefined;
}

function localOp(name: "local.get" | "local.set", index: number, offset: number): Instr {
  return { op: name === "local.get" ? 0x20 : 0x21, name, offset, index };
}

/** The constant zero (or null reference) of type `t`. */
function zeroOf(t: ValType, offset: number): Instr {
  switch (t) {
    case "i32": return { op: 0x41, name: "i32.const", offset, value: 0 };
    case "i64": return { op: 0x42, name: "i64.const", offset, value: 0n };
    case "f32": return { op: 0x43, name: "f32.const", offset, value: 0 };
    case "f64": return { op: 0x44, name: "f64.const", offset, value: 0n };
    default: return { op: 0xd0, name: "ref.null", offset, refType: t };
  }
}
