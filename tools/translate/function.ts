/**
 * Function translator: one pass over a validated wasm function body, emitting x86-64 (Winch style).
 *
 * Value stack: every operand-stack value has a canonical 8-byte frame slot (depth d at
 * [rbp - 8*(L + d + 1)], L = non-parameter locals + scratch slots) but is materialised lazily: an
 * entry may be a constant (folded into immediates), an unread local (folded into memory operands),
 * or a register from tools/translate/regalloc.ts (spilled to its slot when the pool runs dry).
 * At labels, branches and calls values go to their canonical slots, so every control-flow merge
 * sees the same state: all in slots, all registers free; except the one integer result of a block
 * or if/else, which every way into its end passes in RESULT_REG (rbx). Comparisons fuse with a following
 * `br_if`/`if` (cmp; jcc) or `select` (cmp; cmov). Operators without a register-aware visitor
 * flush the stack and use the slot-based one (`legacy`), whose instructions read straight off it.
 * i32 values are zero-extended everywhere (slots and registers, tools/link/ABI.md).
 *
 * Float constants are read from the module's read-only pool (context.ts FloatConstants), and a
 * float load that is the right operand of arithmetic is that instruction's memory operand. Address
 * arithmetic becomes one 32-bit `lea` (it wraps modulo 2^32 like i32.add): an array element's
 * `base + (index << 1..3)`, and a pinned local plus a constant or another pinned local; an
 * element's address that loop versioning proved cannot wrap (`noWrap`, hoist.ts) is no `lea` but
 * part of the access's operand, [base + index * 2^k + memory base + offset].
 * Innermost loops start at a 32-byte boundary (multi-byte NOP padding on the way in).
 *
 * Locals stay in frame slots, except the hottest locals of loops, pinned to one register each
 * (integers: PIN_POOL, floats: XPIN_POOL) for the whole function, or, when the function has more
 * hot locals than registers, for each top-level construct with a loop (`PinRegion`: loaded on the
 * way in, written back on the way out); a function restores the pin registers it used before returning, and pins are saved/reloaded around calls that may leave
 * translated code. A local just set from a register is read back from it while that register is
 * free and untouched (`localInReg`); when it is read twice in a row (or teed, then read), the first
 * read takes a register copy so the second finds it too.
 *
 * Control flow (WebAssembly core spec §3.3.8 / §4.4.8): because the stack height at every label
 * is static, a branch copies its arity values to the target's slots and jumps; `end` merely binds
 * the label. Code after an unconditional branch is skipped until the matching `else`/`end`.
 * A pre-scan (`findTargetedBlocks`) finds three shapes that need less: a `block` no branch targets
 * (no label, no flush: inlined bodies, inline.ts), an `if` whose arm cannot fall through (asc's
 * bounds-check abort: the arm is translated aside and the value stack kept as it was; an arm that
 * ends in a trap is translated after the function's body, so the hot path falls through), and a loop
 * whose body is `if <pure condition> ... br` (rotated: the back edge re-tests the condition).
 * Inlined bodies arrive bracketed by INLINE_BEGIN/END markers, which record their code ranges and
 * give them trap pads of their own, so backtraces name inlined functions (`inlined`).
 */
import { Assembler, CC, Label, R, abs, isMem, mem, reg, type Cond, type Mem, type RM, type Size } from "../x86/assembler.ts";
import type { BlockType, FuncType, Instr, ValType } from "../wasm/types.ts";
import { blockSignature } from "../wasm/validate.ts";
import { OPCODES } from "../wasm/opcodes.ts";
import type { ModuleContext } from "./context.ts";
import { UnsupportedError } from "./errors.ts";
import { emitIntrinsic } from "./intrinsics.ts";
import { translateFloat, type FloatHost } from "./float.ts";
import { Trap, type TrapKind } from "./traps.ts";
import { GPR_POOL, LEAF_PIN_MAX_DEPTH, LEAF_PIN_POOL, PIN_POOL, RegPool, XMM_POOL, XPIN_POOL, rankPinCandidates } from "./regalloc.ts";
import { OPCODE_INFO } from "../wasm/opcodes.ts";
import { OP_INLINE_BEGIN, OP_INLINE_END } from "./inline.ts";

/** Machine code of function `func` inlined into the one being translated: [start, end). */
export interface InlinedRange { func: number; start: Label; end: Label }

interface Ctrl {
  kind: "block" | "loop" | "if" | "func";
  /** Branch target: loop start, or the end of a block/if/function. */
  label: Label;
  /** if only: where the else arm (or the implicit empty else) begins. */
  elseLabel?: Label;
  hasElse: boolean;
  /** Operand depth below the block's parameters. */
  height: number;
  params: ValType[];
  results: ValType[];
  unreachable: boolean;
  /** if with parameters: first scratch slot holding a copy of them for the else arm. */
  paramSave: number;
  /** A block no branch targets: no label, no flush at either end (values stay where they are). */
  transparent?: boolean;
  /** A cold `if` (see `coldIfs`): the value stack as it was at the `if`, put back at its `end`. */
  cold?: ValueStackState;
  /** A block or if/else with one integer result and no parameters: the result reaches its end in
   *  RESULT_REG (every way: falling through, `br`, `br_if`, `br_table`), not its frame slot. */
  inReg?: boolean;
  /** The `if (result i32)` of `c1 && c2` feeding an `if` (`andIfAt`): its arm's last comparison
   *  (c2) and the second `if`'s else label, which c1 and c2 jump to when false. */
  andIf?: { at: number; elseLabel: Label };
  /** The `if` of a rotatable loop header (see `loopHeaders`): where its arm begins. */
  rotate?: { headerStart: number; ifPos: number; bodyStart: Label };
}

/** Where every operand-stack value is, which registers are free, and which locals they still hold. */
interface ValueStackState { depth: number; vs: Val[]; types: ValType[]; gprs: number[]; xmms: number[]; localInReg: [number, number][] }

/** The arm of a cold `if` that ends in a trap, to be translated after the body (see `trapArms`). */
interface DeferredArm {
  /** Where the `if` jumps when its condition holds. */
  label: Label;
  /** Its first operator and its `end`, in `body`. */
  start: number;
  end: number;
  state: ValueStackState;
  /** The enclosing blocks (branch targets) as they were at the `if`. */
  ctrls: Ctrl[];
  trapLabels: Map<TrapKind, Label>;
  /** The inlined function the `if` belongs to, if any (the arm's code range is named after it). */
  inlinedFunc?: number;
  /** The pin region the `if` is in, if any (its pinned locals are the arm's). */
  region: PinRegion | undefined;
}

/**
 * A top-level block, loop or if of the function with a loop inside, when the function has more
 * hot locals than pin registers (see `choosePinned`): its hot locals get the pin registers while
 * its code runs. They are loaded from their slots on the way in and the ones the function writes
 * are stored back on the way out (after its `end`: every way out of a top-level construct but
 * `return` passes there). Outside regions no local is pinned.
 */
interface PinRegion {
  /** Index in the body of its first operator and of its `end`. */
  start: number;
  end: number;
  pinned: Map<number, number>;
  pinnedX: Map<number, number>;
}

const INT_BINARY: Record<string, { size: Size; op: "add" | "sub" | "and" | "or" | "xor" | "imul" }> = {
  "i32.add": { size: 4, op: "add" }, "i32.sub": { size: 4, op: "sub" }, "i32.mul": { size: 4, op: "imul" },
  "i32.and": { size: 4, op: "and" }, "i32.or": { size: 4, op: "or" }, "i32.xor": { size: 4, op: "xor" },
  "i64.add": { size: 8, op: "add" }, "i64.sub": { size: 8, op: "sub" }, "i64.mul": { size: 8, op: "imul" },
  "i64.and": { size: 8, op: "and" }, "i64.or": { size: 8, op: "or" }, "i64.xor": { size: 8, op: "xor" },
};

const INT_SHIFT: Record<string, { size: Size; op: "shl" | "shr" | "sar" | "rol" | "ror" }> = {
  "i32.shl": { size: 4, op: "shl" }, "i32.shr_s": { size: 4, op: "sar" }, "i32.shr_u": { size: 4, op: "shr" },
  "i32.rotl": { size: 4, op: "rol" }, "i32.rotr": { size: 4, op: "ror" },
  "i64.shl": { size: 8, op: "shl" }, "i64.shr_s": { size: 8, op: "sar" }, "i64.shr_u": { size: 8, op: "shr" },
  "i64.rotl": { size: 8, op: "rol" }, "i64.rotr": { size: 8, op: "ror" },
};

const INT_COMPARE: Record<string, { size: Size; cc: Cond }> = {};
for (const [size, t] of [[4, "i32"], [8, "i64"]] as const) {
  for (const [name, cc] of [["eq", "e"], ["ne", "ne"], ["lt_s", "l"], ["lt_u", "b"], ["gt_s", "g"], ["gt_u", "a"],
    ["le_s", "le"], ["le_u", "be"], ["ge_s", "ge"], ["ge_u", "ae"]] as const) {
    INT_COMPARE[`${t}.${name}`] = { size, cc };
  }
}

const INT_DIV: Record<string, { size: 4 | 8; signed: boolean; rem: boolean }> = {
  "i32.div_s": { size: 4, signed: true, rem: false }, "i32.div_u": { size: 4, signed: false, rem: false },
  "i32.rem_s": { size: 4, signed: true, rem: true }, "i32.rem_u": { size: 4, signed: false, rem: true },
  "i64.div_s": { size: 8, signed: true, rem: false }, "i64.div_u": { size: 8, signed: false, rem: false },
  "i64.rem_s": { size: 8, signed: true, rem: true }, "i64.rem_u": { size: 8, signed: false, rem: true },
};

/** Loads: access size, sign extension, result width. f32/f64 loads move raw bits. */
const LOADS: Record<string, { bytes: 1 | 2 | 4 | 8; signed: boolean; to: 4 | 8 }> = {
  "i32.load": { bytes: 4, signed: false, to: 4 }, "i64.load": { bytes: 8, signed: false, to: 8 },
  "f32.load": { bytes: 4, signed: false, to: 4 }, "f64.load": { bytes: 8, signed: false, to: 8 },
  "i32.load8_s": { bytes: 1, signed: true, to: 4 }, "i32.load8_u": { bytes: 1, signed: false, to: 4 },
  "i32.load16_s": { bytes: 2, signed: true, to: 4 }, "i32.load16_u": { bytes: 2, signed: false, to: 4 },
  "i64.load8_s": { bytes: 1, signed: true, to: 8 }, "i64.load8_u": { bytes: 1, signed: false, to: 8 },
  "i64.load16_s": { bytes: 2, signed: true, to: 8 }, "i64.load16_u": { bytes: 2, signed: false, to: 8 },
  "i64.load32_s": { bytes: 4, signed: true, to: 8 }, "i64.load32_u": { bytes: 4, signed: false, to: 8 },
};
const STORES: Record<string, 1 | 2 | 4 | 8> = {
  "i32.store": 4, "i64.store": 8, "f32.store": 4, "f64.store": 8,
  "i32.store8": 1, "i32.store16": 2, "i64.store8": 1, "i64.store16": 2, "i64.store32": 4,
};

/**
 * Where an operand-stack value is (Winch's value stack): in its canonical frame slot, a constant
 * not yet materialised (64-bit pattern; i32/f32 zero-extended; a number when below 2^53, as every
 * i32/f32 constant is: no BigInt for them), a local not yet read (its slot is
 * read when the value is consumed; `local.set` of that local materialises it first), or a
 * register owned by this entry. Floats usually live in xmm registers, integers in GPRs, but a
 * reinterpret only retypes the entry, so consumers convert whatever they find.
 */
type Val =
  | { k: "slot" }
  | { k: "const"; v: bigint | number }
  | { k: "local"; i: number }
  | { k: "reg"; r: number; bool?: true } // bool: 0 or 1, made by a comparison (`condition`)
  | { k: "xmm"; x: number };
/** A popped value: where it is, its type, and its depth (whose slot a "slot" value still occupies). */
interface Opnd { v: Val; t: ValType; d: number }
/** A condition not yet turned into a value: `cmp x, y` (or `ucomis x, y`) and the condition code. */
interface Condition { x: Opnd; y: Opnd; size: 4 | 8; cc: Cond; float?: "f32" | "f64" }

const SLOT: Val = { k: "slot" };
const NEGATE: Record<Cond, Cond> = {
  o: "no", no: "o", b: "ae", ae: "b", e: "ne", ne: "e", be: "a", a: "be",
  s: "ns", ns: "s", p: "np", np: "p", l: "ge", ge: "l", le: "g", g: "le",
};
/** The condition with the operands swapped (x < y  <=>  y > x). */
const SWAP: Record<Cond, Cond> = {
  o: "o", no: "no", b: "a", ae: "be", e: "e", ne: "ne", be: "ae", a: "b",
  s: "s", ns: "ns", p: "p", np: "np", l: "g", ge: "le", le: "ge", g: "l",
};
const FLOAT_BINARY: Record<string, "add" | "sub" | "mul" | "div"> = {
  "f32.add": "add", "f32.sub": "sub", "f32.mul": "mul", "f32.div": "div",
  "f64.add": "add", "f64.sub": "sub", "f64.mul": "mul", "f64.div": "div",
};
/** Ordered float comparisons as one condition code after ucomis (swapped so unordered is false). */
const FLOAT_COMPARE: Record<string, { swap: boolean; cc: Cond }> = {};
for (const k of ["f32", "f64"]) {
  FLOAT_COMPARE[`${k}.lt`] = { swap: true, cc: "a" };
  FLOAT_COMPARE[`${k}.le`] = { swap: true, cc: "ae" };
  FLOAT_COMPARE[`${k}.gt`] = { swap: false, cc: "a" };
  FLOAT_COMPARE[`${k}.ge`] = { swap: false, cc: "ae" };
}
/**
 * A table above indexed by opcode: the visitors look operators up with an array load instead of a
 * string-keyed one. Every operator in these tables has a one-byte opcode.
 */
function byOpcode<T>(table: Record<string, T>): readonly (T | undefined)[] {
  const out: (T | undefined)[] = new Array(256).fill(undefined);
  for (const [name, v] of Object.entries(table)) {
    const info = OPCODES.find((o) => o.name === name);
    if (!info || info.op > 0xff) throw new Error(`byOpcode: ${name} is not a one-byte opcode`);
    out[info.op] = v;
  }
  return out;
}
/** Where a block or if/else with one integer result passes it (see Ctrl.inReg): the first pool register. */
const RESULT_REG = GPR_POOL[0];
function isIntType(t: ValType): boolean {
  return t === "i32" || t === "i64";
}
/** i32.eqz .. f64.ge (0x45-0x66), the comparisons that reach `condition` (so can complete a fused
 *  branch): not f32/f64 eq and ne, which make their 0/1 themselves (float.ts: a NaN operand). */
function isComparison(op: number): boolean {
  return op >= 0x45 && op <= 0x66 && op !== 0x5b && op !== 0x5c && op !== 0x61 && op !== 0x62;
}
/** Whether a block of this signature passes its result in RESULT_REG. */
function resultInReg(sig: FuncType): boolean {
  return sig.params.length === 0 && sig.results.length === 1 && (sig.results[0] === "i32" || sig.results[0] === "i64");
}
const OP_I32_ADD = 0x6a, OP_IF = 0x04, OP_LOCAL_GET = 0x20, OP_LOCAL_SET = 0x21, OP_LOCAL_TEE = 0x22, OP_GLOBAL_GET = 0x23, OP_GLOBAL_SET = 0x24;
/** How far ahead a local read looks for another read of the same local (`readsAgainSoon`). 12, not
 *  8: SHA-256's `a = t1 + t2` reads t1 nine operators after `e = d + t1` (the state words shift in
 *  between), and read back from the frame t1 sits on the rounds' critical path (-4% time). */
const READ_AGAIN_WINDOW = 12;
/** `storeOnlyRead`: operators from a float local's set to its read by a store, and to its next set. */
const STORE_ONLY_WINDOW = 12, STORE_DEAD_WINDOW = 160;
/** The integer binary operators on constants (results wrapped to the operand width by the caller). */
const FOLD: Record<"add" | "sub" | "and" | "or" | "xor" | "imul", (x: bigint, y: bigint) => bigint> = {
  add: (x, y) => x + y, sub: (x, y) => x - y, imul: (x, y) => x * y, and: (x, y) => x & y, or: (x, y) => x | y, xor: (x, y) => x ^ y,
};
/** Alignment of an innermost loop's first instruction: a loop of up to 32 bytes then sits in one
 *  32-byte fetch block and one 64-byte line (a small loop straddling a line ran 2x slower here). */
const LOOP_ALIGN = 32;
/** Uses (outside loops) that earn a local a pin register left free by the hot ones: a pin costs a
 *  save and a restore, a frame-resident local a memory access per use. 4, not 2 or 3: the GC of
 *  the strings kernel (tlsf removeBlock/insertBlock) ran 4% faster with 3 or 4, 1% with 2. */
const WARM_USES = 4;
/** Most local slots zeroed at entry with SSE stores (`zeroLocals`); more take `rep stos`. */
const ZERO_BY_SSE_SLOTS = 32;
const INT_BINARY_OPS = byOpcode(INT_BINARY), INT_SHIFT_OPS = byOpcode(INT_SHIFT), INT_COMPARE_OPS = byOpcode(INT_COMPARE);
const INT_DIV_OPS = byOpcode(INT_DIV), LOAD_OPS = byOpcode(LOADS), STORE_OPS = byOpcode(STORES);
const FLOAT_BINARY_OPS = byOpcode(FLOAT_BINARY), FLOAT_COMPARE_OPS = byOpcode(FLOAT_COMPARE);
/**
 * Operators a loop header may consist of to be re-translated at the back edge: no effects but a
 * trap, which the copy at the back edge raises exactly when the original would have (integer loads:
 * `while (a[i] < pivot) i++`).
 */
const PURE_HEADER = new Set(["local.get", "i32.const", "i64.const", "global.get", "i32.eqz", "i64.eqz",
  ...Object.keys(INT_COMPARE), ...Object.keys(INT_BINARY), ...Object.keys(INT_SHIFT), ...Object.keys(LOADS).filter((n) => n.startsWith("i"))]);
/** Empty `c` (Map.clear and Set.clear allocate a new table even for an empty collection). */
function clearIfUsed(c: Map<number, unknown> | Set<number>): void {
  if (c.size !== 0) c.clear();
}
/** Whether operand `o` is an unread local `i`. */
function isLocal(o: Opnd, i: number): boolean {
  return o.v.k === "local" && o.v.i === i;
}
const bytesOf = (t: ValType): 4 | 8 => (t === "i32" || t === "f32" ? 4 : 8);
const isFloat = (t: ValType): boolean => t === "f32" || t === "f64";
const simm32 = (v: bigint): boolean => v >= -0x80000000n && v <= 0x7fffffffn;
/** A constant's 64-bit pattern as a bigint (see Val). */
const constBits = (v: bigint | number): bigint => (typeof v === "number" ? BigInt(v) : v);
/** The low `bytes` of a number pattern (below 2^53), sign-extended: the immediate of a 1/2/4-byte operation. */
const signedLow = (n: number, bytes: 1 | 2 | 4 | 8): number =>
  bytes === 8 ? n : bytes === 4 ? n | 0 : bytes === 2 ? (n << 16) >> 16 : (n << 24) >> 24;

/**
 * One per module: `translate` emits one function, starting from a clean state each time (the
 * collections below are cleared rather than made anew for each of a module's thousands of functions).
 */
export class FunctionTranslator implements FloatHost {
  // The function being translated (set by `translate`).
  private funcIndex = 0;
  private localsDecl: ValType[] = [];
  private body: Instr[] = [];
  private displayName = "";
  /** Declared locals zeroed on entry: the first ones (inlined callees' regions set their own, inline.ts). */
  private zeroed = 0;
  private type: FuncType = { params: [], results: [] };
  private nParams = 0;
  /** Parameters, then declared locals (one array, refilled for each function). */
  private readonly locals: ValType[] = [];
  /** Non-parameter locals plus scratch slots: the operand stack starts below them. */
  private localArea = 0;
  private scratchNext = 0;
  private depth = 0;
  private maxDepth = 0;
  private readonly types: ValType[] = [];
  /** Location of each operand-stack value (parallel to `types`). */
  private readonly vs: Val[] = [];
  private readonly gprs = new RegPool(GPR_POOL);
  private readonly xmms = new RegPool(XMM_POOL);
  /** Integer locals that live in a register of PIN_POOL (local index -> register): for the whole
   *  function (`functionPinned`), or while a pin region is translated (its own map). */
  private pinned: Map<number, number>;
  private readonly functionPinned = new Map<number, number>();
  /**
   * Locals whose value a free pool register still holds since their last `local.set` (local -> register,
   * register -> local or -1): the next `local.get` takes the register instead of reloading the slot.
   * Integer globals too, keyed locals.length + global index (a copy of a cell read again soon).
   * Forgotten when the register is taken, the local set again, at labels, calls and slot-based operators.
   */
  private readonly localInReg = new Map<number, number>();
  /** A first comparison's jumps made, the `if` completed by the comparison at `at` (`shortCircuitEnd`). */
  private shortCircuit: { at: number; elseLabel: Label; thenLabel: Label | undefined } | undefined;
  /**
   * By local index: 1 when every read of the local follows a set of it in the same stretch of
   * straight-line code (no control operator, call or inline marker between): its value never
   * outlives the stretch (`scanLocalSets`). SHA-256's t1, t2; a loop's scratch values.
   */
  private stretchLocal = new Uint8Array(64);
  /** By local index: 1 when the local's value is only in its `localInReg` register, not yet in its
   *  slot (a `stretchLocal` set from a register). Stored when that register is taken for something
   *  else or a slot-based operator runs; dropped at the stretch's end, where nothing reads it. */
  private dirty = new Uint8Array(64);
  /** By local index: the stretch of its last set so far (`scanLocalSets`' scratch). */
  private setStretch = new Int32Array(64);
  private readonly regHolds = new Int32Array(16).fill(-1);
  /** Float locals that live in an xmm register of XPIN_POOL (local index -> xmm), as `pinned`. */
  private pinnedX: Map<number, number>;
  private readonly functionPinnedX = new Map<number, number>();
  /** The pin registers this function uses (saved at entry, restored at return), in PIN_POOL /
   *  XPIN_POOL order: the function's pins, or the most any pin region uses. */
  private savedPins = 0;
  private savedPinsX = 0;
  /** Pin regions by the index of their first operator (empty: the function pins for itself). */
  private readonly regions = new Map<number, PinRegion>();
  /** The pin region being translated. */
  private region: PinRegion | undefined;
  /** By local index: 1 if some operator writes it (of the pinned locals, only these are saved to
   *  their slots around calls). Refilled by `choosePinned`. */
  private written = new Uint8Array(64);
  /** Locals set before any read in the body's first straight-line stretch (`scanLocalSets`): 1. */
  private setFirst = new Uint8Array(64);
  /** By local index: weighted uses (`choosePinned`'s scratch, kept to be reused). */
  private uses = new Float64Array(64);
  private pinSaveBase = 0;
  private readonly ctrls: Ctrl[] = [];
  /** Nesting of blocks opened inside unreachable code (skipped entirely). */
  private deadNesting = 0;
  /** Trap landing pads of the code being emitted (the function's, or an inlined body's own), made
   *  by the first `trap` (most inlined bodies have none). */
  private trapLabels: Map<TrapKind, Label> | undefined;
  /** Machine-code ranges of inlined bodies and of their trap landing pads (inline.ts), for backtraces. */
  inlined: InlinedRange[] = [];
  /** Inlined bodies being emitted: their start and the enclosing code's trap pads. */
  private readonly inlineStack: { func: number; start: Label; outerTraps: Map<TrapKind, Label> | undefined }[] = [];
  /** Trap pads of inlined bodies, emitted after the function's own. */
  private readonly inlinePads: { func: number; traps: Map<TrapKind, Label> }[] = [];
  private current: Instr | undefined;
  /** Index in `body` of the operator being translated. */
  private pos = 0;
  /** The memory operand `foldAddress` made for the access right after it (taken by `addressOf`),
   *  with the register it owns that the access may reuse and the other one it owns (-1: none). */
  private folded: { m: Mem; r: number; other: number } | null = null;
  /** A pinned float local set from xmm `x` and not (yet) written to its register: the store that
   *  reads it takes `x` (`storeOnlyRead`). */
  private deferredX: { local: number; x: number } | null = null;
  /** `block`/`if` operators (by index in `body`) that some branch targets. */
  private readonly targetedBlocks = new Set<number>();
  /**
   * `if`s without `else` or block type whose arm ends in `unreachable`, `return` or `br` (asc's
   * `if (i >= length) { abort(); unreachable }`): what follows the `if` is reached only when the
   * condition is false, so the arm is translated out of the way of the value stack, which is not
   * flushed (its state at the `if` is restored at the `end`). Made when the first is found.
   */
  private readonly coldIfs = new Set<number>();
  /** Cold `if`s whose arm ends in `unreachable` (an abort): `if` index -> index of its `end`. Their
   *  arms are translated after the function's body (`deferred`), out of the hot code's way. */
  private readonly trapArms = new Map<number, number>();
  /** Arms of `trapArms` met so far, translated after the body (`emitDeferredArms`). */
  private readonly deferred: DeferredArm[] = [];
  /**
   * Loops shaped `loop (if <pure condition> (then ... (br $loop)))` (asc's `for`/`while`): `if`
   * index -> index of the first condition operator. The back edge re-tests the condition and
   * jumps to the top of the arm (one conditional branch per iteration instead of a jump to the
   * test and a branch out of it). Made when the first is found.
   */
  private readonly loopHeaders = new Map<number, number>();
  /** Positions of the loops `loopHeaders` rotates. */
  private readonly rotatedLoops = new Set<number>();
  /** Positions of the loops with no loop inside: their hot code starts at a LOOP_ALIGN boundary. */
  private readonly innermostLoops = new Set<number>();
  /** While a loop condition is re-translated at its back edge: where a true condition jumps. */
  private rotateTo: Label | undefined;
  /** slot(d) and localSlot(l) by d and l (filled on first use; slot() only once localArea is final). */
  private readonly slotMems: Mem[] = [];
  private readonly localMems: Mem[] = [];
  /** The Val of an unread local, by index (Vals are never modified: one per local suffices). */
  private readonly localVals: Val[] = [];

  constructor(readonly asm: Assembler, private readonly ctx: ModuleContext) {
    this.pinned = this.functionPinned;
    this.pinnedX = this.functionPinnedX;
  }

  /** The pinned locals of pin region `r` from now on, or the function's own (outside regions). */
  private usePins(r: PinRegion | undefined): void {
    this.region = r;
    this.pinned = r?.pinned ?? this.functionPinned;
    this.pinnedX = r?.pinnedX ?? this.functionPinnedX;
  }

  /**
   * Emit function `funcIndex` (locals `localsDecl` besides its parameters, operators `body`) at
   * the current position (its label is bound by the caller); its inlined ranges are then `inlined`.
   */
  translate(funcIndex: number, localsDecl: ValType[], body: Instr[], displayName: string, zeroed: number = localsDecl.length): void {
    this.begin(funcIndex, localsDecl, body, displayName, zeroed);
    const a = this.asm;
    // Scratch slots: a copy of the parameters of every `if` that has some (for its else arm).
    this.scratchNext = this.localsDecl.length;
    const scratch = this.choosePinned();
    // Slots below the scratch ones: the caller's values of the registers this function pins.
    this.pinSaveBase = this.localsDecl.length + scratch;
    this.localArea = this.localsDecl.length + scratch + this.savedPins + this.savedPinsX;

    // Prologue: frame pointer chain (backtraces), frame, stack-exhaustion check, zeroed locals.
    a.push(R.rbp);
    a.mov(8, R.rbp, R.rsp);
    a.alu("sub", 8, R.rsp, 0x7fff0000); // placeholder forcing imm32; patched below
    const frameSizeAt = a.offset - 4;
    a.alu("cmp", 8, R.rsp, abs(this.ctx.stackLimit));
    a.jcc("b", this.trap(Trap.callStackExhausted));
    this.scanLocalSets();
    this.zeroLocals();
    let k = 0;
    for (let p = 0; p < this.savedPins; p++) a.mov(8, this.scratchSlot(this.pinSaveBase + k++), reg(PIN_POOL[p]));
    for (const [i, r] of this.pinned) {
      if (i < this.nParams) a.mov(8, reg(r), this.localSlot(i));
      else if (this.setFirst[i] !== 1) a.alu("xor", 4, reg(r), reg(r));
    }
    for (let p = 0; p < this.savedPinsX; p++) a.movsd(this.scratchSlot(this.pinSaveBase + k++), XPIN_POOL[p]);
    for (const [i, x] of this.pinnedX) {
      if (i < this.nParams) a.movsd(x, this.localSlot(i));
      else if (this.setFirst[i] !== 1) a.sse("xorps", x, x);
    }

    const funcEnd = a.label();
    this.ctrls.push({
      kind: "func", label: funcEnd, hasElse: false, height: 0, params: [], results: this.type.results,
      unreachable: false, paramSave: -1,
    });

    this.findTargetedBlocks();
    this.translateRange(0, this.body.length);
    if (this.ctrls.length !== 0) throw new Error(`${this.displayName}: body does not end with 'end'`);
    if (this.folded) throw new Error(`${this.displayName}: a folded address no access took`);
    if (this.deferredX) throw new Error(`${this.displayName}: a deferred local set no store took`);
    if (this.region) throw new Error(`${this.displayName}: pin region at ${this.region.start} not left`);
    this.emitDeferredArms();

    // Trap landing pads: `call` so the return address lies inside this function (or, for an
    // inlined body's pads, inside a range the symbol table names after the inlined function).
    if (this.trapLabels) this.emitPads(this.trapLabels);
    for (const p of this.inlinePads) {
      if (p.traps.size === 0) continue;
      const start = a.label(), end = a.label();
      a.bind(start);
      this.emitPads(p.traps);
      a.bind(end);
      this.inlined.push({ func: p.func, start, end });
    }
    const frameBytes = 8 * (this.localArea + this.maxDepth);
    a.patchI32(frameSizeAt, (frameBytes + 15) & ~15);
  }
  private emitPads(traps: Map<TrapKind, Label>): void {
    for (const [kind, label] of traps) {
      this.asm.bind(label);
      this.asm.call(this.ctx.traps.get(kind)!);
    }
  }

  /** Every per-function field as a new FunctionTranslator would have it, for function `funcIndex`. */
  private begin(funcIndex: number, localsDecl: ValType[], body: Instr[], displayName: string, zeroed: number): void {
    this.funcIndex = funcIndex;
    this.localsDecl = localsDecl;
    this.body = body;
    this.displayName = displayName;
    this.zeroed = zeroed;
    this.type = this.ctx.funcTypes[funcIndex];
    this.nParams = this.type.params.length;
    const locals = this.locals, params = this.type.params;
    locals.length = 0;
    for (let i = 0; i < params.length; i++) locals.push(params[i]);
    for (let i = 0; i < localsDecl.length; i++) locals.push(localsDecl[i]);
    this.localArea = 0;
    this.scratchNext = 0;
    this.depth = 0;
    this.maxDepth = 0;
    this.types.length = 0;
    this.vs.length = 0;
    this.shortCircuit = undefined;
    this.gprs.exclude([]); // the last function's leaf pins (LEAF_PIN_POOL) back in the pool
    this.gprs.reset();
    this.xmms.reset();
    this.usePins(undefined);
    clearIfUsed(this.pinned);
    clearIfUsed(this.localInReg);
    this.regHolds.fill(-1);
    clearIfUsed(this.pinnedX);
    this.savedPins = 0;
    this.savedPinsX = 0;
    clearIfUsed(this.regions);
    this.pinSaveBase = 0;
    this.ctrls.length = 0;
    this.deadNesting = 0;
    this.trapLabels = undefined;
    this.inlined = [];
    this.inlineStack.length = 0;
    this.inlinePads.length = 0;
    this.current = undefined;
    this.pos = 0;
    clearIfUsed(this.targetedBlocks);
    clearIfUsed(this.coldIfs);
    clearIfUsed(this.trapArms);
    this.deferred.length = 0;
    clearIfUsed(this.loopHeaders);
    clearIfUsed(this.rotatedLoops);
    clearIfUsed(this.innermostLoops);
    this.rotateTo = undefined;
    this.slotMems.length = 0;
    this.localMems.length = 0;
    // localVals: a local's Val depends on its index only (kept).
  }

  /** Translate body[start, end) (an operator may consume the ones after it: `visit`'s result). */
  private translateRange(start: number, end: number): void {
    const body = this.body;
    const regions = this.regions.size !== 0 ? this.regions : undefined;
    for (let i = start; i < end; i++) {
      if (regions) this.regionBoundary(i, regions);
      this.current = body[i];
      this.pos = i;
      i += this.visit(body[i], body[i + 1]);
    }
    if (regions) this.regionBoundary(end, regions);
  }

  /** Whether a pin region starts at operator `k` (its first operator must not be fused into the one before). */
  private regionStartsAt(k: number): boolean {
    return this.regions.size !== 0 && this.regions.has(k);
  }

  /**
   * Before operator `i`: leave the pin region whose `end` is behind (stores the written pinned
   * locals to their slots), enter the one starting at `i` when it is reached (loads its pinned
   * locals). Values and register copies of locals go to their slots first: a local's home changes.
   */
  private regionBoundary(i: number, regions: Map<number, PinRegion>): void {
    const a = this.asm;
    const r = this.region;
    if (r !== undefined && i > r.end) {
      this.flush();
      this.forgetLocalsInRegs(false);
      for (const [l, p] of r.pinned) if (this.written[l] === 1) a.mov(8, this.localSlot(l), reg(p));
      for (const [l, x] of r.pinnedX) if (this.written[l] === 1) a.movsd(this.localSlot(l), x);
      this.usePins(undefined);
      this.gprs.reset();
      this.xmms.reset();
    }
    const next = regions.get(i);
    if (next === undefined || this.ctrls.length !== 1 || this.ctrls[0].unreachable || this.coldIfs.has(i)) return;
    this.flush();
    this.forgetLocalsInRegs(false);
    this.gprs.reset();
    this.xmms.reset();
    this.usePins(next);
    for (const [l, p] of next.pinned) a.mov(8, reg(p), this.localSlot(l));
    for (const [l, x] of next.pinnedX) a.movsd(x, this.localSlot(l));
  }

  /** Which `block`s are branch targets (the others need no label and no flush: `transparent`). */
  private findTargetedBlocks(): void {
    const open: number[] = [];
    const withElse: boolean[] = []; // parallel to `open`: the `if` has an `else`
    const body = this.body;
    let innermost = -1; // the last loop opened, until a loop opens inside it
    for (let i = 0; i < body.length; i++) {
      const ins = body[i];
      switch (ins.op) {
        case 0x03: innermost = i; open.push(i); withElse.push(false); break; // loop
        case 0x02: case 0x04: open.push(i); withElse.push(false); break; // block, if
        case 0x05: withElse[withElse.length - 1] = true; break; // else
        case 0x0b: { // end
          const k = open.pop();
          if (k !== undefined && k === innermost) {
            this.innermostLoops.add(k);
            innermost = -1;
          }
          if (withElse.pop() || k === undefined || body[k].op !== 0x04 || (body[k].blockType?.kind ?? "empty") !== "empty") break;
          const last = body[i - 1].op;
          if (i - 1 > k && (last === 0x00 || last === 0x0f || last === 0x0c)) this.coldIfs.add(k); // unreachable, return, br
          if (i - 1 > k && last === 0x00) this.trapArms.set(k, i); // an arm ending in unreachable
          // A loop header: `loop` (no type), pure operators, this `if`; the arm ends with `br` to the loop.
          let h = k - 1;
          while (h >= 0 && PURE_HEADER.has(body[h].name)) h--;
          if (h >= 0 && h < k - 1 && body[h].op === 0x03 && (body[h].blockType?.kind ?? "empty") === "empty" && // loop
            last === 0x0c && body[i - 1].depth === 1) { // br
            this.loopHeaders.set(k, h + 1);
            this.rotatedLoops.add(h);
          }
          break;
        }
        case 0x0c: case 0x0d: this.markTarget(open, ins.depth!); break; // br, br_if
        case 0x0e: // br_table
          for (const t of ins.targets!) this.markTarget(open, t);
          this.markTarget(open, ins.defaultTarget!);
          break;
      }
    }
  }

  /** A branch to `depth` from inside the blocks `open` (by position): its block is targeted. */
  private markTarget(open: number[], depth: number): void {
    const k = open[open.length - 1 - depth];
    if (k !== undefined) this.targetedBlocks.add(k);
  }

  // ---------------------------------------------------------------- slots

  // Frame-slot operands are made once per function and shared (a Mem is never modified).
  private slot(d: number): Mem {
    return (this.slotMems[d] ??= mem(R.rbp, -8 * (this.localArea + d + 1)));
  }
  private localSlot(l: number): Mem {
    return (this.localMems[l] ??= l < this.nParams ? mem(R.rbp, 16 + 8 * (this.nParams - 1 - l)) : mem(R.rbp, -8 * (l - this.nParams + 1)));
  }
  private scratchSlot(i: number): Mem {
    return mem(R.rbp, -8 * (i + 1));
  }
  get sse41(): Label {
    return this.ctx.sse41;
  }
  setTopType(t: ValType): void {
    this.types[this.depth - 1] = t;
  }
  private push(t: ValType): Mem {
    this.types[this.depth] = t;
    this.vs[this.depth] = SLOT;
    const s = this.slot(this.depth++);
    if (this.depth > this.maxDepth) this.maxDepth = this.depth;
    return s;
  }
  pop(): Mem {
    return this.slot(--this.depth);
  }
  top(n = 0): Mem {
    return this.slot(this.depth - 1 - n);
  }
  trap(kind: TrapKind): Label {
    const traps = (this.trapLabels ??= new Map());
    let l = traps.get(kind);
    if (!l) {
      l = this.asm.label(`${this.displayName}.trap${kind}`);
      traps.set(kind, l);
    }
    return l;
  }
  private unsupported(what?: string): never {
    const ins = this.current;
    const name = what ?? ins?.name ?? "?";
    throw new UnsupportedError(
      `unsupported operator: ${name} (in ${this.ctx.name} function ${this.displayName}` +
        (ins ? ` at byte offset 0x${ins.offset.toString(16)})` : ")"),
    );
  }

  /**
   * Pick the locals to keep in registers (integers in PIN_POOL, floats in XPIN_POOL): the most used
   * ones, weighting uses inside loops (8x per nesting level), when that outweighs saving/restoring
   * them around the calls. When the function has more such locals than registers and two or more
   * top-level constructs with loops, each of those gets its own choice (`PinRegion`). The same scan
   * counts the scratch slots the body needs (the parameters of every `if` that has some): the result.
   */
  private choosePinned(): number {
    const n = this.locals.length;
    if (this.uses.length < n) {
      this.uses = new Float64Array(2 * n);
      this.written = new Uint8Array(2 * n);
    }
    this.written.fill(0, 0, n);
    const all = this.countUses(0, this.body.length);
    const ranked = rankPinCandidates(all.used, (k) => this.uses[k], all.callWeight);
    let ints = 0;
    for (const i of ranked) if (this.locals[i] === "i32" || this.locals[i] === "i64") ints++;
    const regions = ints > PIN_POOL.length || ranked.length - ints > XPIN_POOL.length ? this.findRegions() : [];
    if (regions.length < 2) {
      // Pins the hot locals leave free go to locals used at least WARM_USES times (outside loops:
      // a register instead of a frame access on each use, for one save and restore).
      const warm = rankPinCandidates(all.used, (k) => this.uses[k], all.callWeight, WARM_USES);
      const leaf = this.hasIntPin(warm) && this.leafPinsFit();
      [this.savedPins, this.savedPinsX] = this.assignPins(warm, this.functionPinned, this.functionPinnedX, leaf);
      if (leaf) this.gprs.exclude(LEAF_PIN_POOL); // begin() gave every register back: they are free
      return all.scratch;
    }
    for (const r of regions) {
      const u = this.countUses(r.start, r.end + 1);
      const [i, f] = this.assignPins(rankPinCandidates(u.used, (k) => this.uses[k], u.callWeight), r.pinned, r.pinnedX);
      this.savedPins = Math.max(this.savedPins, i);
      this.savedPinsX = Math.max(this.savedPinsX, f);
      if (i + f > 0) this.regions.set(r.start, r);
    }
    return all.scratch;
  }

  /**
   * Weighted uses of the locals in body[from, to) into `uses` (a use weighs 8^loop depth, counted
   * from `from`), the locals used in order of first use, the calls that make pins reload weighted
   * the same way, and the scratch slots of `if`s with parameters. Marks the locals written in `written`.
   */
  private countUses(from: number, to: number): { used: number[]; callWeight: number; scratch: number } {
    const uses = this.uses, written = this.written;
    uses.fill(0, 0, this.locals.length);
    const used: number[] = [];
    let scratch = 0;
    let callWeight = 0;
    const nest: boolean[] = [];
    let loops = 0;
    let w = 1; // 8 ** min(loops, 4)
    const body = this.body;
    for (let k = from; k < to; k++) {
      const ins = body[k];
      switch (ins.op) {
        case 0x02: nest.push(false); break; // block
        case 0x04: // if
          nest.push(false);
          if (ins.blockType?.kind === "type") scratch += blockSignature(this.ctx.mod, ins.blockType).params.length;
          break;
        case 0x03: nest.push(true); w = 8 ** Math.min(++loops, 4); break; // loop
        case 0x0b: if (nest.pop()) w = 8 ** Math.min(--loops, 4); break; // end
        case 0x20: case 0x21: case 0x22: { // local.get, local.set, local.tee
          const i = ins.index!;
          const t = this.locals[i];
          if (t === "v128" || t === "funcref" || t === "externref") break;
          if (uses[i] === 0) used.push(i);
          uses[i] += w;
          if (ins.op !== 0x20) written[i] = 1;
          break;
        }
        case 0x10: // call
          // Direct calls to this module's functions preserve the pin registers; imports may not.
          // A call right before `unreachable` (an abort) is cold: it never returns to use them.
          if (body[k + 1]?.op === 0x00) break; // unreachable
          if (ins.index! < this.ctx.importBindings.length && this.ctx.importBindings[ins.index!].kind !== "intrinsic") callWeight += w;
          break;
        case 0x11: callWeight += w; break; // call_indirect
      }
    }
    return { used, callWeight, scratch };
  }

  /** The top-level blocks, loops and ifs with a loop inside (pin region candidates, `PinRegion`). */
  private findRegions(): PinRegion[] {
    const out: PinRegion[] = [];
    const body = this.body;
    let depth = 0, start = 0, hasLoop = false;
    for (let k = 0; k < body.length; k++) {
      const op = body[k].op;
      if (op === 0x02 || op === 0x03 || op === 0x04) { // block, loop, if
        if (depth++ === 0) { start = k; hasLoop = false; }
        if (op === 0x03) hasLoop = true;
      } else if (op === 0x0b && --depth === 0 && hasLoop) { // end
        out.push({ start, end: k, pinned: new Map(), pinnedX: new Map() });
      }
    }
    return out;
  }

  /** Pin the locals of `ranked` (best first) while registers last, LEAF_PIN_POOL before PIN_POOL
   *  when `leaf`; how many of each callee-saved pool (PIN_POOL, XPIN_POOL) it took. */
  private assignPins(ranked: number[], pinned: Map<number, number>, pinnedX: Map<number, number>, leaf = false): [number, number] {
    let ints = 0, floats = 0;
    const first = leaf ? LEAF_PIN_POOL.length : 0;
    for (const i of ranked) {
      const t = this.locals[i];
      if ((t === "i32" || t === "i64") && ints < first + PIN_POOL.length) {
        pinned.set(i, ints < first ? LEAF_PIN_POOL[ints] : PIN_POOL[ints - first]);
        ints++;
      } else if ((t === "f32" || t === "f64") && floats < XPIN_POOL.length) pinnedX.set(i, XPIN_POOL[floats++]);
    }
    return [Math.max(0, ints - first), floats];
  }
  private hasIntPin(ranked: number[]): boolean {
    return ranked.some((i) => isIntType(this.locals[i]));
  }
  /**
   * Whether the function may pin LEAF_PIN_POOL: it calls nothing but aborts (a call right before
   * `unreachable`), has no call_indirect (r11 is its target), memory.grow or bulk memory operator
   * (r8 is their scratch) and no intrinsic (some use r8, r11), and it computes at most
   * LEAF_PIN_MAX_DEPTH integer values at once between labels: the pool keeps three registers, and
   * an operator may hold all its operands in registers at once (select of a comparison: four).
   */
  private leafPinsFit(): boolean {
    const body = this.body;
    // The operand stack since the last label: 1 for an integer computed into a register, 0 for a
    // constant (mostly an immediate operand) or a float; `regs` counts the 1s.
    const st: number[] = [];
    let regs = 0;
    const pop = (n: number): void => {
      for (let i = 0; i < n && st.length > 0; i++) regs -= st.pop()!; // older values are in their slots
    };
    const ends: number[] = []; // per open construct: an if's 1 when its result is an integer, else 0; -1 for a block or loop
    for (let k = 0; k < body.length; k++) {
      const ins = body[k];
      const op = ins.op;
      if (op === 0x10 && body[k + 1]?.op !== 0x00) return false; // call (not an abort)
      if (op === 0x11 || op === 0x40 || op === 0xfc08 || op === 0xfc0a || op === 0xfc0b) return false; // call_indirect, memory.grow, memory.init/copy/fill
      if (op < 0x1a) {
        // Where the translator puts every value in its slot (labels, branches, calls), nothing is
        // in a register any more; a block (transparent when nothing branches to it), a loop's end
        // (no label) and an inlined body's markers keep them where they are.
        if (op === 0x02) ends.push(-1); // block
        else if (op === 0x03) { st.length = 0; regs = 0; ends.push(-1); } // loop
        else if (op === 0x04) { // if
          const results = ins.blockType === undefined ? [] : blockSignature(this.ctx.mod, ins.blockType).results;
          st.length = 0; regs = 0;
          ends.push(results.length === 1 && isIntType(results[0]) ? 1 : 0);
        } else if (op === 0x0b) { // end
          const e = ends.pop();
          if (e !== undefined && e >= 0) { st.length = 0; st.push(e); regs = e; } // an if's: its result in RESULT_REG
        } else if (op > 0x01) { st.length = 0; regs = 0; } // not nop
        continue;
      }
      let push = -1; // the result's flag, -1: none
      switch (op) {
        case 0x41: case 0x42: case 0x43: case 0x44: push = 0; break; // constants
        case 0x20: push = isIntType(this.locals[ins.index!]) ? 1 : 0; break; // local.get
        case 0x23: push = isIntType(this.globalType(ins.index!)) ? 1 : 0; break; // global.get
        case 0x21: case 0x24: case 0x1a: pop(1); break; // local.set, global.set, drop
        case 0x22: pop(1); push = isIntType(this.locals[ins.index!]) ? 1 : 0; break; // local.tee
        case 0x1b: case 0x1c: pop(3); push = 1; break; // select
        default: {
          const sig = OPCODE_INFO.get(op)?.sig;
          if (sig === undefined || sig.results.length > 1) return false; // reference and table operators: not here
          pop(sig.params.length);
          if (sig.results.length === 1) push = isIntType(sig.results[0]) ? 1 : 0;
        }
      }
      if (push >= 0) { st.push(push); regs += push; }
      if (regs > LEAF_PIN_MAX_DEPTH) return false;
    }
    return true;
  }
  /** Translated functions give back the pin registers they used (see PIN_POOL, XPIN_POOL). */
  private restoreCallerPins(): void {
    let k = 0;
    for (let p = 0; p < this.savedPins; p++) this.asm.mov(8, reg(PIN_POOL[p]), this.scratchSlot(this.pinSaveBase + k++));
    for (let p = 0; p < this.savedPinsX; p++) this.asm.movsd(XPIN_POOL[p], this.scratchSlot(this.pinSaveBase + k++));
  }
  /** Before a call that may reach non-translated code: pinned locals to their slots. */
  private savePinned(): void {
    if (this.pinned.size === 0 && this.pinnedX.size === 0) return;
    for (const [i, r] of this.pinned) if (this.written[i] === 1) this.asm.mov(8, this.localSlot(i), reg(r));
    for (const [i, x] of this.pinnedX) if (this.written[i] === 1) this.asm.movsd(this.localSlot(i), x);
  }
  private restorePinned(): void {
    if (this.pinned.size === 0 && this.pinnedX.size === 0) return;
    for (const [i, r] of this.pinned) this.asm.mov(8, reg(r), this.localSlot(i));
    for (const [i, x] of this.pinnedX) this.asm.movsd(x, this.localSlot(i));
  }

  /**
   * One pass over the body for both facts about where locals are set:
   * - `setFirst[l]` = 1 for the locals the body's first straight-line stretch (up to its first
   *   block, loop, if or branch) sets before anything reads them: every later read, whatever the
   *   path, sees that value, so neither their slot nor their pin register needs the zero of
   *   WebAssembly's local initialisation (core spec §4.4.10: non-parameter locals start at zero);
   * - `stretchLocal` (see there), with `dirty` cleared.
   */
  private scanLocalSets(): void {
    const n = this.locals.length;
    if (this.stretchLocal.length < n) {
      this.setFirst = new Uint8Array(2 * n);
      this.stretchLocal = new Uint8Array(2 * n);
      this.dirty = new Uint8Array(2 * n);
      this.setStretch = new Int32Array(2 * n);
    }
    const setFirst = this.setFirst, ok = this.stretchLocal, setIn = this.setStretch;
    setFirst.fill(0, 0, n);
    ok.fill(1, 0, n);
    this.dirty.fill(0, 0, n);
    setIn.fill(-1, 0, n);
    const body = this.body;
    let stretch = 0, first = true;
    for (let k = 0; k < body.length; k++) {
      const ins = body[k];
      const op = ins.op;
      if (op < 0x1a) { // control, calls, inline markers: a stretch ends
        stretch++;
        if (op < 0 || (op <= 0x0f && op !== 0x01)) first = false; // inline markers, control (but nop)
      } else if (op === 0x20) { // local.get
        const l = ins.index!;
        if (first && setFirst[l] === 0) setFirst[l] = 2; // read first
        if (setIn[l] !== stretch) ok[l] = 0;
      } else if (op === 0x21 || op === 0x22) { // local.set, local.tee
        const l = ins.index!;
        if (first && setFirst[l] === 0) setFirst[l] = 1;
        setIn[l] = stretch;
      }
    }
  }

  private zeroLocals(): void {
    const a = this.asm;
    const n = this.zeroed;
    if (n === 0) return;
    if (n <= 8) {
      // A pinned local that is written starts in its register (zeroed below); its slot is written
      // before every call that reloads it (savePinned). A local set before it is read needs no zero.
      for (let i = 0; i < n; i++) {
        const l = this.nParams + i;
        if (this.setFirst[l] === 1) continue;
        if (!((this.pinned.has(l) || this.pinnedX.has(l)) && this.written[l] === 1)) a.mov(8, this.localSlot(l), 0);
      }
      return;
    }
    if (n <= ZERO_BY_SSE_SLOTS) {
      // 16 bytes a store from a zeroed xmm0 (free at entry: the arguments are on the stack), the
      // last store overlapping the one before when n is odd. `rep stos` costs some 30 cycles to
      // start: SHA-256's block zeroed 10 slots with it on each call, 2% of the kernel's time.
      a.sse("xorps", 0, 0);
      for (let off = -8 * n; off < 0; off += 16) a.movups(mem(R.rbp, Math.min(off, -16)), 0);
      return;
    }
    // rep stosq over [rbp - 8n, rbp)
    a.lea(8, R.rdi, mem(R.rbp, -8 * n));
    a.mov(4, R.rcx, n);
    a.alu("xor", 4, R.rax, R.rax);
    a.repStos(8);
  }

  // ---------------------------------------------------------------- control helpers

  private blockSig(bt: BlockType | undefined): FuncType {
    return blockSignature(this.ctx.mod, bt ?? { kind: "empty" });
  }

  private branchArity(c: Ctrl): number {
    return c.kind === "loop" ? c.params.length : c.results.length;
  }

  /** Copy the top `arity` values to the target frame's slots (a branch's value transfer). */
  private copyToTarget(c: Ctrl): void {
    const n = this.branchArity(c);
    for (let i = 0; i < n; i++) {
      const src = this.depth - n + i;
      const dst = c.height + i;
      if (src !== dst) {
        this.asm.mov(8, R.rax, this.slot(src));
        this.asm.mov(8, this.slot(dst), R.rax);
      }
    }
  }

  private branchTo(depth: number): void {
    const c = this.ctrls[this.ctrls.length - 1 - depth];
    if (c.kind === "func") {
      this.emitReturn();
      return;
    }
    if (c.inReg) this.moveGpr(reg(RESULT_REG), this.peek(0));
    else this.copyToTarget(c);
    this.asm.jmp(c.label);
  }

  private emitReturn(): void {
    const a = this.asm;
    const results = this.type.results;
    const n = results.length;
    if (n === 1) {
      // Result 0 straight from wherever it is: no slot round trip.
      this.moveGpr(R.rax, this.peek(0));
      this.restoreCallerPins();
      a.mov(8, R.rsp, R.rbp);
      a.pop(R.rbp);
      a.ret();
      return;
    }
    if (n > 1) this.flush();
    for (let i = 1; i < n; i++) {
      a.mov(8, R.rcx, this.slot(this.depth - n + i));
      a.mov(8, abs(this.ctx.multiReturn, 8 * (i - 1)), R.rcx);
    }
    if (n > 0) a.mov(8, R.rax, this.slot(this.depth - n));
    this.restoreCallerPins();
    a.mov(8, R.rsp, R.rbp);
    a.pop(R.rbp);
    a.ret();
  }

  private markUnreachable(): void {
    const c = this.ctrls[this.ctrls.length - 1];
    c.unreachable = true;
  }

  // ---------------------------------------------------------------- visitor

  /** Translate `ins` (and possibly `next`, fused with it); returns how many following operators it consumed. */
  private visit(ins: Instr, next: Instr | undefined): number {
    if (ins.op < 0) { // INLINE_BEGIN / INLINE_END
      this.inlineMarker(ins);
      return 0;
    }
    const cur = this.ctrls[this.ctrls.length - 1];
    if (ins.op === 0x0b && this.deadNesting === 0) { // end
      // A block no branch targets, or a loop (branches go to its start): the end is reached only by
      // falling through, so it is no label and the values stay where they are.
      if (cur.transparent || cur.kind === "loop") { this.endTransparent(cur); return 0; }
      if (cur.cold) { this.endColdIf(cur); return 0; }
    }
    if (cur.unreachable) {
      // Skip dead code, tracking only the block structure.
      switch (ins.op) {
        case 0x02: case 0x03: case 0x04: // block, loop, if
          this.deadNesting++;
          return 0;
        case 0x05: // else
          if (this.deadNesting > 0) return 0;
          break;
        case 0x0b: // end
          if (this.deadNesting > 0) { this.deadNesting--; return 0; }
          break;
        default:
          return 0;
      }
    }
    const consumed = cur.unreachable ? -1 : this.fast(ins, next);
    if (consumed >= 0) return consumed;
    const op = ins.op;
    // The result of a block or if/else that passes it in a register (`inReg`), at its else or end.
    const result = (op === 0x05 || op === 0x0b) && cur.inReg && !cur.unreachable;
    // Everything else works on frame slots: materialise the whole operand stack first.
    if (!cur.unreachable) this.flush(result ? 1 : 0);
    if (result) {
      const o = this.popV();
      this.moveGpr(reg(RESULT_REG), o);
      this.release(o);
    }
    // Slot-based operators use any register, labels start afresh; dirty locals are stored before a
    // slot-based operator and dead at a control operator (`stretchLocal`).
    this.forgetLocalsInRegs(op >= 0x1a);
    this.legacy(ins);
    if (op === 0x05 || op === 0x0b || op === 0x03 || op === 0x02) { // else, end, loop, block
      // A label: every value is in its slot, every register free (but an `inReg` result).
      this.gprs.reset();
      this.xmms.reset();
      if (op === 0x0b && cur.inReg) {
        this.gprs.claim(RESULT_REG);
        this.vs[this.depth - 1] = { k: "reg", r: RESULT_REG };
      }
    }
    return 0;
  }

  /** `block` that no branch targets: only the block structure is tracked. */
  private beginTransparent(ins: Instr): void {
    const sig = this.blockSig(ins.blockType);
    this.ctrls.push({
      kind: "block", label: this.asm.label(), hasElse: false, height: this.depth - sig.params.length, params: sig.params,
      results: sig.results, unreachable: false, paramSave: -1, transparent: true,
    });
  }
  /** Its `end`, and a loop's (branches go to a loop's start): the results are on top of the stack,
   *  wherever they are. If the body cannot fall through, nothing reaches what follows (no branch
   *  targets the end): it is dead too. */
  private endTransparent(c: Ctrl): void {
    this.ctrls.pop();
    if (!c.unreachable) return;
    // Values left above the block when its body stopped (before a `return`, say) give back their registers.
    while (this.depth > c.height) this.release(this.popV());
    for (const t of c.results) this.pushV(t, SLOT);
    this.markUnreachable();
  }

  /** The `if` at `body[pos]`, its condition popped. `pre`: the jumps of an earlier condition were
   *  made (`andIfAt`): to its else label (no deferred arm then). */
  private ifAt(pos: number, ins: Instr, cond: Condition, pre?: { elseLabel: Label; thenLabel: undefined }): number {
    if (this.rotateTo) {
      // The loop condition at the back edge: true -> the top of the arm; false falls through to the exit.
      this.asm.jcc(this.emitCondition(cond), this.rotateTo);
      this.rotateTo = undefined;
      if (pre) this.asm.bind(pre.elseLabel); // the earlier condition false: the exit too
      return 0;
    }
    const trapArmEnd = this.targetedBlocks.has(pos) || pre ? undefined : this.trapArms.get(pos);
    if (trapArmEnd !== undefined) return this.deferArm(cond, pos, trapArmEnd);
    if (this.coldIfs.has(pos) && !this.targetedBlocks.has(pos)) this.coldIf(cond, pre);
    else this.ifOp(ins, cond, undefined, pre);
    const headerStart = this.loopHeaders?.get(pos);
    const c = this.ctrls[this.ctrls.length - 1];
    // The back edge arrives with every value in its slot: so must the jump past the arm.
    if (headerStart !== undefined && (!c.cold || c.cold.vs.every((v) => v.k === "slot"))) {
      const bodyStart = this.asm.label();
      if (this.innermostLoops.has(headerStart - 1)) this.asm.alignCode(LOOP_ALIGN);
      this.asm.bind(bodyStart);
      c.rotate = { headerStart, ifPos: pos, bodyStart };
    }
    return 0;
  }
  /** The last `br` of a loop header's arm: the loop's test again, branching to the top of the arm. */
  private rotatedBackEdge(r: NonNullable<Ctrl["rotate"]>): void {
    this.flush();
    const pos = this.pos, current = this.current;
    this.rotateTo = r.bodyStart;
    this.translateRange(r.headerStart, r.ifPos + 1);
    if (this.rotateTo) throw new Error(`${this.displayName}: loop test at 0x${this.body[r.ifPos].offset.toString(16)} not re-translated`);
    this.pos = pos;
    this.current = current;
    this.markUnreachable();
  }
  /** The value stack, the free registers and the locals they hold. */
  private snapshot(): ValueStackState {
    const d = this.depth;
    return {
      depth: d, vs: this.vs.slice(0, d), types: this.types.slice(0, d), gprs: this.gprs.snapshot(), xmms: this.xmms.snapshot(),
      localInReg: [...this.localInReg],
    };
  }
  private restore(s: ValueStackState): void {
    this.depth = s.depth;
    s.vs.forEach((v, i) => (this.vs[i] = v));
    s.types.forEach((t, i) => (this.types[i] = t));
    this.gprs.restore(s.gprs);
    this.xmms.restore(s.xmms);
    this.forgetLocalsInRegs(false);
    for (const [l, r] of s.localInReg) this.holdLocal(l, r);
  }

  /** An `if` whose arm ends in a trap (`trapArms`): a jump to the arm, translated later; the
   *  operators up to its `end` are skipped here (returns how many). */
  private deferArm(cond: Condition, pos: number, end: number): number {
    const label = this.asm.label();
    this.asm.jcc(this.emitCondition(cond), label);
    this.pushDeferredArm(label, pos, end);
    return end - pos;
  }
  /** The arm of the `if` at `pos` (through its `end`), jumped to at `label`: translated after the body. */
  private pushDeferredArm(label: Label, pos: number, end: number): void {
    const inl = this.inlineStack[this.inlineStack.length - 1];
    this.deferred.push({
      label, start: pos + 1, end, state: this.snapshot(), ctrls: this.ctrls.slice(), inlinedFunc: inl?.func, region: this.region,
      trapLabels: (this.trapLabels ??= new Map()), // made now: the inlined body's end lists it for its pads
    });
  }
  /** The deferred arms, after the body: each with the value stack and blocks it had at its `if`. */
  private emitDeferredArms(): void {
    const a = this.asm;
    const ownTraps = this.trapLabels;
    for (let k = 0; k < this.deferred.length; k++) { // arms inside arms are appended as they are met
      const arm = this.deferred[k];
      a.bind(arm.label);
      this.usePins(arm.region);
      this.restore(arm.state);
      this.trapLabels = arm.trapLabels;
      this.ctrls.push(...arm.ctrls, {
        kind: "if", label: a.label(), hasElse: false, height: arm.state.depth, params: [], results: [], unreachable: false, paramSave: -1,
      });
      this.translateRange(arm.start, arm.end);
      if (!this.ctrls[this.ctrls.length - 1].unreachable || this.ctrls.length !== arm.ctrls.length + 1) {
        throw new Error(`${this.displayName}: the arm of the if at 0x${this.body[arm.start - 1].offset.toString(16)} falls through`);
      }
      this.ctrls.length = 0;
      if (arm.inlinedFunc !== undefined && a.here > arm.label.address!) {
        const end = a.label();
        a.bind(end);
        this.inlined.push({ func: arm.inlinedFunc, start: arm.label, end });
      }
    }
    this.trapLabels = ownTraps;
    this.usePins(undefined);
  }

  /** A cold `if` (see `coldIfs`): jump over its arm when the condition is false, keeping the value
   *  stack. `pre`: an earlier condition jumps over the arm too (`andIfAt`), from before the code
   *  that computed this one: no register holds a local at the label. */
  private coldIf(cond: Condition, pre?: { elseLabel: Label }): void {
    const a = this.asm;
    const cc = this.emitCondition(cond);
    const label = pre ? pre.elseLabel : a.label();
    a.jcc(NEGATE[cc], label);
    if (pre) this.forgetLocalsInRegs(false);
    const cold = this.snapshot();
    this.ctrls.push({ kind: "if", label, hasElse: false, height: cold.depth, params: [], results: [], unreachable: false, paramSave: -1, cold });
  }
  /** Its `end`: the arm cannot fall through, so only the jump over it arrives, with the stack as it was. */
  private endColdIf(c: Ctrl): void {
    if (!c.unreachable) throw new Error(`${this.displayName}: cold if arm falls through`);
    this.ctrls.pop();
    this.asm.bind(c.label);
    this.restore(c.cold!);
  }

  /** Start or end of an inlined body: its code range, and trap pads of its own (see `inlined`). */
  private inlineMarker(ins: Instr): void {
    const a = this.asm;
    if (ins.op === OP_INLINE_BEGIN) {
      const start = a.label();
      a.bind(start);
      this.inlineStack.push({ func: ins.index!, start, outerTraps: this.trapLabels });
      this.trapLabels = undefined;
      return;
    }
    const open = this.inlineStack.pop()!;
    if (this.trapLabels) this.inlinePads.push({ func: open.func, traps: this.trapLabels });
    this.trapLabels = open.outerTraps;
    if (a.here > open.start.address!) {
      const end = a.label();
      a.bind(end);
      this.inlined.push({ func: open.func, start: open.start, end });
    }
  }

  /** The slot-based visitor for the operators `fast` declines (it handles the rest: locals, globals,
   *  constants, drop, if, br, br_if, return): operands in frame slots (the caller flushed the value stack). */
  private legacy(ins: Instr): void {
    const cur = this.ctrls[this.ctrls.length - 1];
    const a = this.asm;
    const name = ins.name;

    switch (ins.op) {
      // ---- control (§4.4.8)
      case 0x00: // unreachable
        a.jmp(this.trap(Trap.unreachable));
        this.markUnreachable();
        return;
      case 0x02: case 0x03: { // block, loop
        const sig = this.blockSig(ins.blockType);
        const label = a.label();
        const loop = ins.op === 0x03;
        if (loop) {
          // A rotated loop runs from the top of its arm instead (aligned there, `ifAt`).
          if (this.innermostLoops.has(this.pos) && !this.rotatedLoops.has(this.pos)) a.alignCode(LOOP_ALIGN);
          a.bind(label);
        }
        this.ctrls.push({
          kind: loop ? "loop" : "block", label, hasElse: false, height: this.depth - sig.params.length, params: sig.params,
          results: sig.results, unreachable: false, paramSave: -1, inReg: !loop && resultInReg(sig),
        });
        return;
      }
      case 0x05: { // else
        const c = cur;
        if (!c.unreachable) a.jmp(c.label);
        a.bind(c.elseLabel!);
        c.hasElse = true;
        c.unreachable = false;
        this.depth = c.height;
        for (let i = 0; i < c.params.length; i++) {
          a.mov(8, R.rax, this.scratchSlot(c.paramSave + i));
          a.mov(8, this.push(c.params[i]), R.rax);
        }
        return;
      }
      case 0x0b: { // end
        const c = this.ctrls.pop()!;
        if (c.kind === "func") {
          this.depth = c.results.length;
          c.results.forEach((t, i) => (this.types[i] = t));
          a.bind(c.label);
          if (!c.unreachable) this.emitReturn();
          return;
        }
        if (c.kind === "if" && !c.hasElse) {
          // Implicit else: parameters pass through unchanged as results (validation made them equal).
          if (!c.unreachable && c.params.length > 0) a.jmp(c.label);
          a.bind(c.elseLabel!);
          for (let i = 0; i < c.params.length; i++) {
            a.mov(8, R.rax, this.scratchSlot(c.paramSave + i));
            a.mov(8, this.slot(c.height + i), R.rax);
          }
        }
        a.bind(c.label); // (a loop's end never comes here: endTransparent)
        this.depth = c.height;
        for (const t of c.results) this.push(t);
        return;
      }
      case 0x10: return this.call(ins.index!); // call
      case 0x11: return this.callIndirect(ins.typeIndex!, ins.table ?? 0); // call_indirect

      // ---- parametric
      case 0x1b: case 0x1c: { // select
        const cond = this.pop();
        const b = this.pop();
        const x = this.top();
        a.mov(4, R.rcx, cond);
        a.mov(8, R.rax, x);
        a.test(4, R.rcx, R.rcx);
        a.cmovcc("e", 8, R.rax, b);
        a.mov(8, x, R.rax);
        return;
      }

      // ---- references (§4.4.2) and tables (§4.4.6); representation: ABI.md "References"
      case 0xd0: a.mov(8, this.push(ins.refType!), 0); return; // ref.null
      case 0xd1: { // ref.is_null
        const x = this.top();
        a.alu("cmp", 8, x, 0);
        this.setBool("e", x);
        this.types[this.depth - 1] = "i32";
        return;
      }
      case 0xd2: { // ref.func
        a.movabs(R.rax, this.funcRef(ins.index!));
        a.mov(8, this.push("funcref"), R.rax);
        return;
      }
      case 0x25: return this.tableGet(ins.index!); // table.get
      case 0x26: return this.tableSet(ins.index!); // table.set
      case 0xfc10: { // table.size
        a.mov(8, R.rax, abs(this.ctx.tables[ins.index!].size));
        a.mov(8, this.push("i32"), R.rax);
        return;
      }
      case 0xfc0f: return this.tableGrow(ins.index!); // table.grow
      case 0xfc11: return this.tableFill(ins.index!); // table.fill
      case 0xfc0e: return this.tableCopy(ins.dst!, ins.src!); // table.copy
      case 0xfc0c: return this.tableInit(ins.dst!, ins.segment!); // table.init
      case 0xfc0d: { // elem.drop
        a.mov(8, abs(this.ctx.elemSegments[ins.index!].length), 0);
        return;
      }


      // ---- memory
      case 0x3f: { // memory.size
        a.mov(8, R.rax, abs(this.mem().pages));
        a.mov(8, this.push("i32"), R.rax);
        return;
      }
      case 0x40: return this.memoryGrow(); // memory.grow
      case 0xfc08: return this.memoryInit(ins.segment!); // memory.init
      case 0xfc09: { // data.drop
        a.mov(8, abs(this.ctx.dataSegments[ins.index ?? ins.segment!].length), 0);
        return;
      }
    }

    const op = ins.op < 0x100 ? ins.op : 0; // prefixed opcodes are in none of the tables (0: unreachable neither)
    const ld = LOAD_OPS[op];
    if (ld) return this.load(ins, ld);
    const st = STORE_OPS[op];
    if (st) return this.store(ins, st);

    const bin = INT_BINARY_OPS[op];
    if (bin) {
      const y = this.pop();
      const x = this.top();
      a.mov(bin.size, R.rax, x);
      if (bin.op === "imul") a.imul(bin.size, R.rax, y);
      else a.alu(bin.op, bin.size, R.rax, y);
      a.mov(8, x, R.rax);
      return;
    }
    const sh = INT_SHIFT_OPS[op];
    if (sh) {
      const y = this.pop();
      const x = this.top();
      a.mov(4, R.rcx, y);
      a.mov(sh.size, R.rax, x);
      a.shift(sh.op, sh.size, R.rax, "cl"); // x86 masks the count to 5/6 bits, as wasm does
      a.mov(8, x, R.rax);
      return;
    }
    const cmp = INT_COMPARE_OPS[op];
    if (cmp) {
      const y = this.pop();
      const x = this.top();
      a.mov(cmp.size, R.rax, x);
      a.alu("cmp", cmp.size, R.rax, y);
      this.setBool(cmp.cc, x);
      return;
    }
    const div = INT_DIV_OPS[op];
    if (div) return this.divide(div.size, div.signed, div.rem);

    switch (name) {
      case "i32.eqz": case "i64.eqz": {
        const x = this.top();
        a.alu("cmp", name === "i32.eqz" ? 4 : 8, x, 0);
        this.setBool("e", x);
        this.types[this.depth - 1] = "i32";
        return;
      }
      case "i32.clz": case "i64.clz": {
        const size = name === "i32.clz" ? 4 : 8;
        const x = this.top();
        // bsr gives the index of the highest set bit (ZF=1 and no result for 0): clz = (bits-1) - index.
        a.bitscan("bsr", size, R.rax, x);
        a.mov(size, R.rcx, -1);
        a.cmovcc("e", size, R.rax, R.rcx);
        a.unary("neg", size, R.rax);
        a.alu("add", size, R.rax, size * 8 - 1);
        if (size === 4) a.mov(4, R.rax, R.rax);
        a.mov(8, x, R.rax);
        return;
      }
      case "i32.ctz": case "i64.ctz": {
        const size = name === "i32.ctz" ? 4 : 8;
        const x = this.top();
        a.bitscan("bsf", size, R.rax, x);
        a.mov(4, R.rcx, size * 8);
        a.cmovcc("e", size, R.rax, R.rcx);
        a.mov(8, x, R.rax);
        return;
      }
      case "i32.popcnt": case "i64.popcnt": return this.popcount(name === "i32.popcnt" ? 4 : 8);
      case "i32.wrap_i64": {
        const x = this.top();
        a.mov(4, R.rax, x);
        a.mov(8, x, R.rax);
        this.types[this.depth - 1] = "i32";
        return;
      }
      case "i64.extend_i32_s": {
        const x = this.top();
        a.movsx(8, R.rax, 4, x);
        a.mov(8, x, R.rax);
        this.types[this.depth - 1] = "i64";
        return;
      }
      case "i64.extend_i32_u": {
        this.types[this.depth - 1] = "i64"; // slot already holds the zero-extended value
        return;
      }
      case "i32.extend8_s": case "i32.extend16_s": case "i64.extend8_s": case "i64.extend16_s": case "i64.extend32_s": {
        const to = name.startsWith("i32") ? 4 : 8;
        const from = name.includes("8_s") ? 1 : name.includes("16_s") ? 2 : 4;
        const x = this.top();
        a.movsx(to, R.rax, from as 1 | 2 | 4, x);
        a.mov(8, x, R.rax);
        return;
      }
    }
    if (translateFloat(this, name)) return;
    this.unsupported();
  }

  // ---------------------------------------------------------------- value stack (Winch style)

  private pushV(t: ValType, v: Val): void {
    this.types[this.depth] = t;
    this.vs[this.depth] = v;
    this.depth++;
    if (this.depth > this.maxDepth) this.maxDepth = this.depth;
  }
  private popV(): Opnd {
    const d = --this.depth;
    return { v: this.vs[d], t: this.types[d], d };
  }
  private peek(n: number): Opnd {
    const d = this.depth - 1 - n;
    return { v: this.vs[d], t: this.types[d], d };
  }
  /** Free the register a consumed value occupied. */
  private release(o: Opnd): void {
    if (o.v.k === "reg") this.gprs.give(o.v.r);
    else if (o.v.k === "xmm") this.xmms.give(o.v.x);
  }
  /** Where a local or slot value is: its frame slot, or the register a pinned local lives in. */
  private memOf(o: Opnd): RM {
    if (o.v.k === "local") return this.localLoc(o.v.i);
    if (o.v.k === "slot") return this.slot(o.d);
    throw new Error(`memOf ${o.v.k}`);
  }
  /** A local's home: a pinned register, else its slot. */
  private localLoc(i: number): RM {
    const p = this.pinned.get(i);
    return p === undefined ? this.localSlot(i) : reg(p);
  }

  /** dst (a scratch or owned GPR) = the value's 64-bit pattern. Only `mov`s: flags survive. */
  private moveGpr(dst: number, o: Opnd): void {
    const a = this.asm;
    const v = o.v;
    switch (v.k) {
      case "reg": if (v.r !== Number(dst)) a.mov(8, dst, reg(v.r)); return;
      case "const": {
        if (typeof v.v === "number") {
          if (v.v <= 0x7fffffff) a.mov(8, dst, v.v);
          else if (v.v <= 0xffffffff) a.mov(4, dst, v.v | 0);
          else a.movabs(dst, v.v);
          return;
        }
        const s = BigInt.asIntN(64, v.v);
        if (simm32(s)) a.mov(8, dst, Number(s));
        else if (v.v <= 0xffffffffn) a.mov(4, dst, Number(v.v) | 0);
        else a.movabs(dst, s);
        return;
      }
      case "local": case "slot": {
        const src = this.memOf(o);
        if (isMem(src) || Number(src) !== Number(dst)) a.mov(8, dst, src);
        return;
      }
      case "xmm": a.movFromXmm(bytesOf(o.t), dst, v.x); return;
    }
  }

  /** Store the value's 64-bit pattern (f32/i32 zero-extended) to an 8-byte cell. Only `mov`s. */
  private storeTo(m: Mem, o: Opnd): void {
    const a = this.asm;
    const v = o.v;
    switch (v.k) {
      case "reg": a.mov(8, m, reg(v.r)); return;
      case "const": {
        if (typeof v.v === "number" && v.v <= 0x7fffffff) { a.mov(8, m, v.v); return; }
        const s = BigInt.asIntN(64, constBits(v.v));
        if (simm32(s)) a.mov(8, m, Number(s));
        else { this.moveGpr(R.rax, o); a.mov(8, m, R.rax); }
        return;
      }
      case "local": case "slot": {
        const src = this.memOf(o);
        if (!isMem(src)) { a.mov(8, m, src); return; }
        if (src.disp === m.disp && src.base === m.base && src.index === m.index) return;
        a.mov(8, R.rax, src);
        a.mov(8, m, R.rax);
        return;
      }
      case "xmm":
        if (bytesOf(o.t) === 8) a.movsd(m, v.x);
        else { a.movFromXmm(4, R.rax, v.x); a.mov(8, m, R.rax); }
        return;
    }
  }

  /** Move entry `d` to its canonical slot (frees its register). */
  private spillEntry(d: number): void {
    const v = this.vs[d];
    if (v.k === "slot") return;
    const o = { v, t: this.types[d], d };
    this.storeTo(this.slot(d), o);
    this.release(o);
    this.vs[d] = SLOT;
  }
  /** Every value to its slot: before labels, branches and slot-based operators. Only `mov`s. */
  private flush(keepTop = 0): void {
    for (let d = 0; d < this.depth - keepTop; d++) this.spillEntry(d);
  }
  /** Values in registers to their slots (calls clobber every register; constants and locals survive). */
  private spillRegisters(below: number): void {
    for (let d = 0; d < below; d++) {
      const k = this.vs[d].k;
      if (k === "reg" || k === "xmm") this.spillEntry(d);
    }
  }

  /** Whether local `key` (a global: locals.length + index) is read again within the next few
   *  operators of straight-line code before it is set (worth keeping in a register). A trap arm
   *  (`trapArms`) is not on the way: it is translated elsewhere. */
  private readsAgainSoon(key: number): boolean {
    const body = this.body;
    const global = key >= this.locals.length;
    const index = global ? key - this.locals.length : key;
    const get = global ? OP_GLOBAL_GET : OP_LOCAL_GET;
    let seen = 0;
    for (let k = this.pos + 1; k < body.length && seen < READ_AGAIN_WINDOW; k++, seen++) {
      const ins = body[k];
      const op = ins.op;
      if (ins.index === index) {
        if (op === get) return true;
        if (global ? op === OP_GLOBAL_SET : op === OP_LOCAL_SET || op === OP_LOCAL_TEE) return false;
      }
      if (op < 0x1a) { // control flow, calls, inline markers
        const end = op === OP_IF && !this.targetedBlocks.has(k) ? this.trapArms.get(k) : undefined;
        if (end === undefined) return false;
        k = end;
      }
    }
    return false;
  }
  /** Whether local `l` is read after the current operator before it is set or the stretch of
   *  straight-line code ends (`stretchLocal`). */
  private readLaterInStretch(l: number): boolean {
    const body = this.body;
    for (let k = this.pos + 1; k < body.length; k++) {
      const ins = body[k];
      if (ins.op < 0x1a) return false;
      if (ins.index === l) {
        if (ins.op === OP_LOCAL_GET) return true;
        if (ins.op === OP_LOCAL_SET || ins.op === OP_LOCAL_TEE) return false;
      }
    }
    return false;
  }
  /** A free pool register other than `keep` (which stays free), or undefined. */
  private gprBeside(keep: number): number | undefined {
    this.gprs.claim(keep);
    const r = this.takeGpr();
    this.gprs.giveLast(keep);
    return r;
  }
  /** Pushes local `key` (or a global: `readsAgainSoon`) of type `t` from `held`, the register
   *  holding it: a copy when it is read again soon (the local stays held), else the register itself.
   *  Returns the operators after this one it took: 2 when they add a constant (`addendAfter`) and
   *  the copy is made as the sum, else 0. */
  private pushHeld(t: ValType, key: number, held: number): number {
    const copy = this.readsAgainSoon(key) ? this.gprBeside(held) : undefined;
    if (copy === undefined) {
      // The register goes to the stack: a dirty local's value goes to its slot first unless
      // nothing reads it again in this stretch.
      if (key < this.locals.length && this.dirty[key] === 1 && !this.readLaterInStretch(key)) this.dirty[key] = 0;
      this.forgetReg(held);
      this.gprs.claim(held);
      this.pushV(t, { k: "reg", r: held });
      return 0;
    }
    const c = this.addendAfter(key);
    if (c === undefined) this.asm.mov(8, reg(copy), reg(held));
    else this.asm.lea(4, reg(copy), mem(reg(held), c));
    this.pushV(t, { k: "reg", r: copy });
    return c === undefined ? 0 : 2;
  }
  /** Pushes local or global `key` of type `t`, just loaded into `r` (taken from the pool). Read
   *  again soon (`again`): a register keeps it for that read; when the operators after this one
   *  add a constant, `r` is that register and the stack gets the sum (`lea`), and 2 is returned
   *  (the operators taken), else 0. */
  private pushLoaded(t: ValType, key: number, r: number, again: boolean): number {
    const c = again ? this.addendAfter(key) : undefined;
    const sum = c === undefined ? undefined : this.takeGpr();
    if (sum !== undefined) {
      this.asm.lea(4, reg(sum), mem(reg(r), c!));
      this.gprs.giveLast(r);
      this.holdLocal(key, r);
      this.pushV(t, { k: "reg", r: sum });
      return 2;
    }
    if (again) this.holdCopySoon(key, r);
    this.pushV(t, { k: "reg", r });
    return 0;
  }
  /** `key` was just given the value in `r`, which the stack owns: when it is read again soon, a
   *  register copy holds it for that read (if a register is free). */
  private holdCopySoon(key: number, r: number): void {
    if (!this.readsAgainSoon(key)) return;
    const copy = this.takeGpr();
    if (copy === undefined) return;
    this.asm.mov(8, reg(copy), reg(r));
    this.gprs.giveLast(copy);
    this.holdLocal(key, copy);
  }
  /** The i32 read at `pos` (local or global `key`, in a register) is followed by `i32.const c;
   *  i32.add` or `i32.sub`: c (negated for sub) as a 32-bit displacement, so a register copy kept
   *  for a later read can be made by `lea copy, [held + c]` (32-bit: wraps like i32.add) and the
   *  two operators skipped. */
  private addendAfter(key: number): number | undefined {
    const t = key < this.locals.length ? this.locals[key] : this.globalType(key - this.locals.length);
    if (t !== "i32") return undefined;
    const c = this.body[this.pos + 1], op = this.body[this.pos + 2];
    if (c?.op !== 0x41 || (op?.op !== 0x6a && op?.op !== 0x6b)) return undefined; // i32.const; i32.add, i32.sub
    const v = Number(c.value) | 0;
    return op.op === 0x6a ? v : -v | 0;
  }

  /** A free pool register (undefined if none); whatever local it still held is forgotten. */
  private takeGpr(): number | undefined {
    const r = this.gprs.take();
    if (r !== undefined) this.forgetReg(r);
    return r;
  }
  /** `r` is about to hold something else: the local it held is forgotten, after its value goes
   *  to its slot if only the register had it (`dirty`). */
  private forgetReg(r: number): void {
    const l = this.regHolds[r];
    if (l >= 0) {
      if (this.dirty[l] === 1) {
        this.asm.mov(8, this.localSlot(l), reg(r));
        this.dirty[l] = 0;
      }
      this.localInReg.delete(l);
      this.regHolds[r] = -1;
    }
  }
  /** Local (or global) `l` gets a new value: the register copy of the old one is forgotten (a
   *  `dirty` old value was never stored: nothing reads it). */
  private forgetLocal(l: number): void {
    const r = this.localInReg.get(l);
    if (r !== undefined) {
      if (l < this.locals.length) this.dirty[l] = 0;
      this.localInReg.delete(l);
      this.regHolds[r] = -1;
    }
  }
  /**
   * Registers are clobbered or reset (label, call, slot-based operator): nothing is known any more.
   * `writeBack`: the `dirty` locals go to their slots first (a slot-based operator inside a stretch
   * of straight-line code); at the end of a stretch (a control operator, a call) they are dead
   * (`stretchLocal`) and dropped.
   */
  private forgetLocalsInRegs(writeBack: boolean): void {
    if (this.localInReg.size === 0) return;
    for (const [l, r] of this.localInReg) {
      if (l < this.locals.length && this.dirty[l] === 1) {
        if (writeBack) this.asm.mov(8, this.localSlot(l), reg(r));
        this.dirty[l] = 0;
      }
      this.regHolds[r] = -1;
    }
    this.localInReg.clear();
  }
  private holdLocal(l: number, r: number): void {
    this.localInReg.set(l, r);
    this.regHolds[r] = l;
  }

  private allocGpr(): number {
    let r = this.takeGpr();
    if (r !== undefined) return r;
    const d = this.vs.findIndex((v, i) => i < this.depth && v.k === "reg");
    if (d < 0) throw new Error(`${this.displayName}: out of registers`);
    this.spillEntry(d);
    r = this.takeGpr()!;
    return r;
  }
  private allocXmm(): number {
    let x = this.xmms.take();
    if (x !== undefined) return x;
    const d = this.vs.findIndex((v, i) => i < this.depth && v.k === "xmm");
    if (d < 0) throw new Error(`${this.displayName}: out of xmm registers`);
    this.spillEntry(d); // may use rax (f32)
    x = this.xmms.take()!;
    return x;
  }

  /** The value in a GPR this caller owns (allocated if need be). */
  private toReg(o: Opnd): number {
    if (o.v.k === "reg") return o.v.r;
    const r = this.allocGpr();
    this.moveGpr(reg(r), o);
    this.release(o);
    return r;
  }
  /** The value in an xmm register this caller owns. */
  private toXmm(o: Opnd): number {
    if (o.v.k === "xmm") return o.v.x;
    const x = this.allocXmm();
    const a = this.asm;
    if (o.v.k === "local" || o.v.k === "slot") {
      const src = this.memOf(o);
      if (!isMem(src)) a.movToXmm(8, x, src);
      else if (bytesOf(o.t) === 8) a.movsd(x, src);
      else a.movss(x, src);
    } else if (o.v.k === "reg") {
      a.movToXmm(8, x, reg(o.v.r));
      this.release(o);
    } else {
      this.constToXmm(o.v.v, o.t, x);
    }
    return x;
  }
  /** xmm `x` = a constant's pattern: zero by xorps, anything else from the constant pool. */
  private constToXmm(bits: bigint | number, t: ValType, x: number): void {
    if (bits === 0n || bits === 0) this.asm.sse("xorps", x, x);
    else if (bytesOf(t) === 8) this.asm.movsd(x, this.floatConstant(bits));
    else this.asm.movss(x, this.floatConstant(bits));
  }
  /** The constant pool cell holding `bits` (tools/translate/context.ts FloatConstants). */
  private floatConstant(bits: bigint | number): Mem {
    const c = this.ctx.floatConstants.ref(constBits(bits));
    return abs(c.label, c.offset);
  }
  /** An integer source operand: register, memory, or immediate; else loaded into `scratch`. */
  private gprSrc(o: Opnd, size: 4 | 8, scratch: number): RM | number {
    const v = o.v;
    switch (v.k) {
      case "reg": return reg(v.r);
      case "local": case "slot": return this.memOf(o);
      case "const": {
        if (typeof v.v === "number") {
          if (size === 4) return v.v | 0;
          if (v.v <= 0x7fffffff) return v.v;
          break;
        }
        if (size === 4) return Number(BigInt.asIntN(32, v.v));
        const s = BigInt.asIntN(64, v.v);
        if (simm32(s)) return Number(s);
        break;
      }
    }
    this.moveGpr(scratch, o);
    return scratch;
  }
  /** A float source operand: xmm register or memory; else loaded into `scratch` (an xmm number). */
  private xmmSrc(o: Opnd, scratch: number): number | Mem {
    const v = o.v;
    if (v.k === "xmm") return v.x;
    if (v.k === "local" || v.k === "slot") {
      const src = this.memOf(o);
      if (isMem(src)) return src;
    }
    if (v.k === "const") return this.floatConstant(v.v); // read as m32 or m64: an f32's bits are the low 4 bytes
    this.moveGpr(R.rax, o);
    this.asm.movToXmm(8, scratch, R.rax);
    return scratch;
  }
  private constOf(o: Opnd): bigint | null {
    return o.v.k === "const" ? constBits(o.v.v) : null;
  }

  // ---------------------------------------------------------------- fast visitors

  /** Register/constant-aware translation of `ins`; -1 when the slot-based visitor must do it. */
  private fast(ins: Instr, next: Instr | undefined): number {
    const a = this.asm;
    const name = ins.name;
    switch (ins.op) {
      case 0x01: return 0; // nop
      case 0xfc0b: this.fastMemoryFill(); return 0; // memory.fill
      case 0xfc0a: this.fastMemoryCopy(); return 0; // memory.copy
      case 0x00: // unreachable (no flush: nothing runs after the trap)
        this.asm.jmp(this.trap(Trap.unreachable));
        this.markUnreachable();
        return 0;
      case 0x02: // block
        if (this.targetedBlocks.has(this.pos)) return -1;
        this.beginTransparent(ins);
        return 0;
      case 0x20: { // local.get
        const px = this.pinnedX.get(ins.index!);
        const held = px === undefined ? this.localInReg.get(ins.index!) : undefined;
        if (held !== undefined) {
          // Still in the register it was set from: read that instead of the slot.
          return this.pushHeld(this.locals[ins.index!], ins.index!, held);
        } else if (px === undefined) {
          const l = ins.index!, t = this.locals[l];
          if (isIntType(t) && !this.pinned.has(l) && this.readsAgainSoon(l)) {
            // In its slot and read again soon: loaded once, the register kept for the next read.
            const r = this.allocGpr();
            a.mov(8, reg(r), this.localSlot(l));
            return this.pushLoaded(t, l, r, true);
          }
          this.pushV(t, (this.localVals[l] ??= { k: "local", i: l }));
        }
        else if (this.deferredX !== null && this.deferredX.local === ins.index) {
          // Set from xmm `x` and read once, by the store `next` (`storeOnlyRead`): from `x`.
          const x = this.deferredX.x;
          this.deferredX = null;
          if (!next || !this.floatFromPin(x, this.locals[ins.index!], next)) throw new Error(`${this.displayName}: a deferred local set without its store`);
          this.xmms.give(x);
          return 1;
        }
        else if (next && this.floatFromPin(px, this.locals[ins.index!], next)) return 1;
        else if (next && this.floatUpdate(ins.index!, px)) return 3;
        else {
          // A copy: the value must not change when the local is set later.
          const x = this.allocXmm();
          a.movaps(x, px);
          this.pushV(this.locals[ins.index!], { k: "xmm", x });
        }
        return 0;
      }
      case 0x21: case 0x22: return this.localSet(ins.index!, name === "local.tee"); // local.set, local.tee
      case 0x23: { // global.get
        const t = this.globalType(ins.index!);
        const cell = abs(this.ctx.globals[ins.index!]);
        if (isFloat(t)) {
          const x = this.allocXmm();
          if (t === "f64") a.movsd(x, cell); else a.movss(x, cell);
          this.pushV(t, { k: "xmm", x });
        } else {
          // Like a local (`localInReg`, key locals.length + index): read again soon, a register copy
          // is kept for the next read instead of loading the cell again.
          const key = this.locals.length + ins.index!;
          const held = this.localInReg.get(key);
          if (held !== undefined) return this.pushHeld(t, key, held);
          const r = this.allocGpr();
          a.mov(8, reg(r), cell);
          return this.pushLoaded(t, key, r, this.readsAgainSoon(key));
        }
        return 0;
      }
      case 0x24: { // global.set
        this.forgetLocal(this.locals.length + ins.index!);
        const o = this.popV();
        this.storeTo(abs(this.ctx.globals[ins.index!]), o);
        this.release(o);
        return 0;
      }
      case 0x41: case 0x43: // i32.const, f32.const
        this.pushV(name === "i32.const" ? "i32" : "f32", { k: "const", v: Number(ins.value) >>> 0 });
        return 0;
      case 0x42: case 0x44: // i64.const, f64.const
        this.pushV(name === "i64.const" ? "i64" : "f64", { k: "const", v: BigInt.asUintN(64, BigInt(ins.value!)) });
        return 0;
      case 0x1a: this.release(this.popV()); return 0; // drop
      case 0x1b: case 0x1c: { // select
        if (isFloat(this.types[this.depth - 2])) return -1;
        const c = this.popV();
        return this.select(this.valueCondition(c)), 0;
      }
      case 0x0d: this.brIf(ins.depth!, this.valueCondition(this.popV())); return 0; // br_if
      case 0x04: return this.ifAt(this.pos, ins, this.valueCondition(this.popV())); // if
      case 0x0c: { // br
        const c = this.ctrls[this.ctrls.length - 1];
        if (c.rotate && ins.depth === 1 && this.body[this.pos + 1]?.op === 0x0b) { // end
          this.rotatedBackEdge(c.rotate);
          return 0;
        }
        // A target taking its value in RESULT_REG gets it from where it is, not through its slot.
        this.flush(this.ctrls[this.ctrls.length - 1 - ins.depth!].inReg ? 1 : 0);
        this.branchTo(ins.depth!);
        this.markUnreachable();
        return 0;
      }
      case 0x0f: // return
        this.emitReturn();
        this.markUnreachable();
        return 0;
      case 0x0b: { // end
        const c = this.ctrls[this.ctrls.length - 1];
        if (c.kind !== "func") return -1;
        this.ctrls.pop();
        a.bind(c.label);
        this.emitReturn();
        return 0;
      }
      case 0x10: { // call
        const f = ins.index!;
        if (f < this.ctx.importBindings.length && this.ctx.importBindings[f].kind === "intrinsic") return -1;
        if (next?.op === 0x00) { // unreachable
          this.fastCall(this.ctx.funcTypes[f], this.ctx.funcLabels[f]!, true, true);
          this.asm.jmp(this.trap(Trap.unreachable));
          this.markUnreachable();
          return 1;
        }
        this.fastCall(this.ctx.funcTypes[f], this.ctx.funcLabels[f]!, f >= this.ctx.importBindings.length);
        return 0;
      }
      case 0x45: case 0x50: { // i32.eqz, i64.eqz
        const x = this.popV();
        const zero: Opnd = { v: { k: "const", v: 0 }, t: x.t, d: -1 };
        return this.condition({ x, y: zero, size: name === "i32.eqz" ? 4 : 8, cc: "e" }, next);
      }
      case 0xa7: { // i32.wrap_i64
        const x = this.popV();
        const c = this.constOf(x);
        if (c !== null) { this.pushV("i32", { k: "const", v: BigInt.asUintN(32, c) }); return 0; }
        const r = this.toReg(x);
        a.mov(4, reg(r), reg(r));
        this.pushV("i32", { k: "reg", r });
        return 0;
      }
      case 0xad: this.types[this.depth - 1] = "i64"; return 0; // i64.extend_i32_u: i32 values are zero-extended everywhere
      case 0xbc: case 0xbe: case 0xbd: case 0xbf: // i32.reinterpret_f32, f32.reinterpret_i32, i64.reinterpret_f64, f64.reinterpret_i64
        this.types[this.depth - 1] = name.slice(0, 3) as ValType; // same bits, same place
        return 0;
      case 0xac: case 0xc0: case 0xc1: case 0xc2: case 0xc3: case 0xc4: { // i64.extend_i32_s, i32.extend8_s, i32.extend16_s, i64.extend8_s, i64.extend16_s, i64.extend32_s
        const to = name.startsWith("i32") ? 4 : 8;
        const from = name === "i64.extend_i32_s" || name === "i64.extend32_s" ? 4 : name.includes("8_s") ? 1 : 2;
        const x = this.popV();
        const r = this.toReg(x);
        a.movsx(to, reg(r), from, reg(r));
        this.pushV(to === 4 ? "i32" : "i64", { k: "reg", r });
        return 0;
      }
      case 0x67: case 0x68: case 0x79: case 0x7a: { // i32.clz, i32.ctz, i64.clz, i64.ctz
        if (this.vs[this.depth - 1].k === "const") return -1; // rare: the slot-based visitor
        const size = ins.op === 0x67 || ins.op === 0x68 ? 4 : 8;
        const x = this.popV();
        const src = this.gprSrc(x, size, R.rax) as RM;
        const r = x.v.k === "reg" ? x.v.r : this.allocGpr(); // may spill: only movs
        // bsr/bsf: index of the highest/lowest set bit, ZF=1 (and no result) for 0. 32-bit forms
        // zero the upper half.
        if (ins.op === 0x67 || ins.op === 0x79) {
          a.bitscan("bsr", size, reg(r), src); // clz = (bits - 1) - index; 0 -> bits
          a.mov(size, R.rcx, -1);
          a.cmovcc("e", size, reg(r), R.rcx);
          a.unary("neg", size, reg(r));
          a.alu("add", size, reg(r), size * 8 - 1);
        } else {
          a.bitscan("bsf", size, reg(r), src); // ctz = index; 0 -> bits
          a.mov(4, R.rcx, size * 8);
          a.cmovcc("e", size, reg(r), R.rcx);
        }
        this.pushV(size === 4 ? "i32" : "i64", { k: "reg", r });
        return 0;
      }
      case 0x0e: { // br_table: the index from wherever it is (not through its slot)
        const idx = this.popV();
        this.flush(); // the targets expect the rest of the stack in its slots (only movs: idx survives)
        this.forgetLocalsInRegs(false);
        this.moveGpr(R.rax, idx);
        this.release(idx);
        this.brTableOnRax(ins);
        return 0;
      }
      case 0x9f: case 0x91: { // f64.sqrt, f32.sqrt
        const x = this.popV();
        const r = this.toXmm(x);
        a.sse(name === "f64.sqrt" ? "sqrtsd" : "sqrtss", r, r);
        this.pushV(x.t, { k: "xmm", x: r });
        return 0;
      }
      case 0xbb: case 0xb6: { // f64.promote_f32, f32.demote_f64
        const x = this.popV();
        const r = this.toXmm(x);
        a.sse(name === "f64.promote_f32" ? "cvtss2sd" : "cvtsd2ss", r, r);
        this.pushV(name === "f64.promote_f32" ? "f64" : "f32", { k: "xmm", x: r });
        return 0;
      }
      case 0xb7: case 0xb8: case 0xb9: // f64.convert_i32_s, f64.convert_i32_u, f64.convert_i64_s
      case 0xb2: case 0xb3: case 0xb4: { // f32.convert_i32_s, f32.convert_i32_u, f32.convert_i64_s
        const x = this.popV();
        const srcSize = name.endsWith("i32_s") ? 4 : 8; // i32 values are zero-extended: convert_i32_u is a 64-bit signed conversion
        const src = this.gprSrc(x, 8, R.rax);
        const s: RM = typeof src === "number" ? (this.moveGpr(R.rax, x), R.rax) : src;
        const r = this.allocXmm();
        a.sse(name.startsWith("f64") ? "xorpd" : "xorps", r, r); // break the dependency on the old contents
        if (name.startsWith("f64")) a.cvtsi2sd(srcSize, r, s); else a.cvtsi2ss(srcSize, r, s);
        this.release(x);
        this.pushV(name.startsWith("f64") ? "f64" : "f32", { k: "xmm", x: r });
        return 0;
      }
    }

    const op = ins.op;
    if (op > 0xff) return -1;
    const ld = LOAD_OPS[op];
    if (ld) return this.fastLoad(ins, ld);
    const st = STORE_OPS[op];
    if (st) { this.fastStore(ins, st); return 0; }

    const bin = INT_BINARY_OPS[op];
    if (bin) return this.intBinary(bin.op, bin.size as 4 | 8, next);
    const sh = INT_SHIFT_OPS[op];
    if (sh) {
      if (sh.op === "shl" && next?.op === OP_I32_ADD && sh.size === 4) {
        const k = this.constOf(this.peek(0));
        if (k !== null && k >= 1n && k <= 3n) return this.scaledAdd(Number(k) as 1 | 2 | 3);
      }
      this.intShift(sh.op, sh.size as 4 | 8);
      return 0;
    }
    const cmp = INT_COMPARE_OPS[op];
    if (cmp) {
      const y = this.popV(), x = this.popV();
      return this.condition({ x, y, size: cmp.size as 4 | 8, cc: cmp.cc }, next);
    }
    const div = INT_DIV_OPS[op];
    if (div) { this.fastDivide(div.size, div.signed, div.rem); return 0; }
    const fb = FLOAT_BINARY_OPS[op];
    if (fb) { this.floatBinary(name.slice(0, 3) as "f32" | "f64", fb); return 0; }
    const fc = FLOAT_COMPARE_OPS[op];
    if (fc) {
      const y = this.popV(), x = this.popV();
      const k = name.slice(0, 3) as "f32" | "f64";
      return this.condition(fc.swap ? { x: y, y: x, size: 8, cc: fc.cc, float: k } : { x, y, size: 8, cc: fc.cc, float: k }, next);
    }
    return -1;
  }

  private localSet(i: number, tee: boolean): number {
    this.forgetLocal(i);
    const o = this.popV();
    // Lazy reads of this local must see the old value: load them now.
    for (let d = 0; d < this.depth; d++) {
      const v = this.vs[d];
      if (v.k === "local" && v.i === i) {
        const r = this.takeGpr();
        if (r === undefined) this.spillEntry(d);
        else {
          this.asm.mov(8, reg(r), this.localLoc(i));
          this.vs[d] = { k: "reg", r };
        }
      }
    }
    const pin = this.pinned.get(i);
    const px = this.pinnedX.get(i);
    if (pin !== undefined) this.moveGpr(reg(pin), o);
    else if (px !== undefined && !tee && o.v.k === "xmm" && this.storeOnlyRead(i)) {
      this.deferredX = { local: i, x: o.v.x }; // the register stays taken until the store
      return 0;
    } else if (px !== undefined) {
      if (o.v.k === "xmm") this.asm.movaps(px, o.v.x);
      else this.xmmSrcTo(o, px);
    } else if (!tee && o.v.k === "reg" && this.stretchLocal[i] === 1) this.dirty[i] = 1; // held below, stored only if need be
    else this.storeTo(this.localSlot(i), o);
    if (!tee && o.v.k === "reg" && px === undefined) {
      // The register still holds the local's value: a following local.get can take it (localInReg)
      // instead of reading the slot or, for a pinned local, copying its register.
      this.gprs.giveLast(o.v.r);
      this.holdLocal(i, o.v.r);
    } else if (!tee) this.release(o);
    else if (o.v.k === "reg" || o.v.k === "xmm" || o.v.k === "const") {
      if (o.v.k === "reg" && pin === undefined) this.holdCopySoon(i, o.v.r); // the stack keeps the register
      this.pushV(o.t, o.v);
    }
    else if (px !== undefined) {
      const x = this.allocXmm();
      this.asm.movaps(x, px);
      this.pushV(o.t, { k: "xmm", x });
    } else this.pushV(o.t, { k: "local", i });
    return 0;
  }

  /**
   * Whether float local `l`, pinned and being set from an xmm register, is read only by a store
   * (`f32.store`/`f64.store` of it) a few operators ahead, with only an address computed in between
   * (integer locals, globals, constants, i32.shl/add, inline markers, untargeted blocks), and set
   * again after that store before any read, branch or else (a trap arm that does not read it
   * skipped; return or unreachable end it): asc's inlined `__set(i, v)` keeps v in a local it
   * stores once. Then the value need not go to the local's register at all (`deferredX`): the
   * store takes it from where it was computed. No pin region may start or end on the way.
   */
  private storeOnlyRead(l: number): boolean {
    const body = this.body, storeOp = this.locals[l] === "f32" ? 0x38 : 0x39;
    let k = this.pos + 1;
    for (; k < body.length && k <= this.pos + STORE_ONLY_WINDOW; k++) {
      const ins = body[k], op = ins.op;
      if (op === OP_LOCAL_GET && ins.index === l) break;
      if (this.regions.size !== 0 && this.regions.has(k)) return false;
      if (op < 0 || op === 0x41 || op === 0x74 || op === OP_I32_ADD) continue; // inline markers, i32.const, i32.shl, i32.add
      if ((op === OP_LOCAL_GET && isIntType(this.locals[ins.index!])) || (op === OP_GLOBAL_GET && isIntType(this.globalType(ins.index!)))) continue;
      if (op === 0x02 && !this.targetedBlocks.has(k)) continue;
      return false;
    }
    if (body[k]?.op !== OP_LOCAL_GET || body[k].index !== l || body[k + 1]?.op !== storeOp) return false;
    if (this.region !== undefined && this.region.end <= k + 1) return false;
    for (k += 2; k < body.length && k <= this.pos + STORE_DEAD_WINDOW; k++) {
      const ins = body[k], op = ins.op;
      if (op === OP_LOCAL_GET || op === OP_LOCAL_SET || op === OP_LOCAL_TEE) {
        if (ins.index === l) return op !== OP_LOCAL_GET;
      } else if (op === OP_IF) {
        const end = this.targetedBlocks.has(k) ? undefined : this.trapArms.get(k);
        if (end === undefined) return false;
        for (; k < end; k++) { // the arm may read it, or branch where something does
          const o = body[k].op;
          if ((o === OP_LOCAL_GET && body[k].index === l) || o === 0x0c || o === 0x0d || o === 0x0e) return false;
        }
      } else if (op === 0x0c || op === 0x0d || op === 0x0e || op === 0x05) return false; // br, br_if, br_table, else
      else if (op === 0x0f || op === 0x00) return true; // return, unreachable
    }
    return false;
  }

  private intBinary(op: "add" | "sub" | "and" | "or" | "xor" | "imul", size: 4 | 8, next: Instr | undefined): number {
    const a = this.asm;
    let y = this.popV(), x = this.popV();
    const t = x.t;
    const cx = this.constOf(x), cy = this.constOf(y);
    if (cx !== null && cy !== null) { // both known (an inlined callee's constant argument): fold
      this.pushV(t, { k: "const", v: BigInt.asUintN(size * 8, FOLD[op](cx, cy)) });
      return 0;
    }
    // `local.set $p (op x y)` with $p pinned: compute straight into $p's register.
    const p = next && (next.op === 0x21 || next.op === 0x22) ? this.pinned.get(next.index!) : undefined; // local.set, local.tee
    if (p !== undefined && !this.vs.some((v, d) => d < this.depth && v.k === "local" && v.i === next!.index)) {
      const i = next!.index!;
      this.forgetLocal(i);
      if (op !== "sub" && isLocal(y, i) && !isLocal(x, i)) [x, y] = [y, x];
      const rx = isLocal(x, i) || (op !== "add" && op !== "sub") ? undefined : this.inPlace(x);
      const disp = rx === undefined ? undefined : this.leaDisp(y, op as "add" | "sub", size);
      if (disp !== undefined && rx !== undefined) {
        this.asm.lea(size, reg(p), mem(reg(rx), disp)); // `mov p, x; add p, c` in one
        this.release(x);
        if (next!.name === "local.tee") this.pushV(t, { k: "local", i });
        return 1;
      }
      if (!isLocal(y, i)) {
        if (!isLocal(x, i)) { this.moveGpr(reg(p), x); this.release(x); }
        const src = this.gprSrc(y, size, R.rdx);
        if (op === "imul") {
          if (typeof src === "number") a.imul3(size, reg(p), reg(p), src);
          else a.imul(size, reg(p), src);
        } else a.alu(op, size, reg(p), src);
        this.release(y);
        if (next!.name === "local.tee") this.pushV(t, { k: "local", i });
        return 1;
      }
    }
    if (op !== "sub" && x.v.k !== "reg" && (y.v.k === "reg" || x.v.k === "const")) [x, y] = [y, x];
    if ((op === "add" || op === "sub") && this.leaAdd(x, y, op, size)) return 0;
    const r = this.toReg(x);
    const src = this.gprSrc(y, size, R.rdx);
    if (op === "imul") {
      if (typeof src === "number") a.imul3(size, reg(r), reg(r), src);
      else a.imul(size, reg(r), src);
    } else a.alu(op, size, reg(r), src);
    this.release(y);
    this.pushV(t, { k: "reg", r });
    return 0;
  }

  /** A register holding the integer operand without copying it: its own register, or a pinned
   *  local's (read in place); undefined for anything else. */
  private inPlace(o: Opnd): number | undefined {
    if (o.v.k === "reg") return o.v.r;
    return o.v.k === "local" ? this.pinned.get(o.v.i) : undefined;
  }

  /**
   * `x + c`, `x - c` and `x + y` with x a pinned local (whose register must survive): one
   * `lea r, [x + c]` / `[x + y]` into a new register instead of a copy and an add (an i32 `lea`
   * wraps modulo 2^32 as i32.add does). False, having emitted nothing, in every other case.
   */
  private leaAdd(x: Opnd, y: Opnd, op: "add" | "sub", size: 4 | 8): boolean {
    if (x.v.k !== "local") return false;
    const px = this.pinned.get(x.v.i);
    if (px === undefined) return false;
    let m: Mem;
    const disp = this.leaDisp(y, op, size);
    if (disp !== undefined) m = mem(reg(px), disp);
    else if (y.v.k === "const") return false;
    else {
      const py = op === "add" ? this.inPlace(y) : undefined;
      if (py === undefined) return false;
      m = mem(reg(px), 0, reg(py));
    }
    this.release(y);
    const r = this.allocGpr();
    this.asm.lea(size, reg(r), m);
    this.pushV(x.t, { k: "reg", r });
    return true;
  }

  /** The displacement of a `lea` adding (or subtracting) constant `y`, if it has one (an i32 `lea`
   *  wraps modulo 2^32, so any i32 constant; an i64 one must fit a sign-extended 32 bits). */
  private leaDisp(y: Opnd, op: "add" | "sub", size: 4 | 8): number | undefined {
    const c = this.constOf(y);
    if (c === null) return undefined;
    let disp = op === "add" ? BigInt.asIntN(64, c) : -BigInt.asIntN(64, c);
    if (size === 4) disp = BigInt.asIntN(32, disp);
    else if (!simm32(disp)) return undefined;
    return Number(disp);
  }

  /**
   * `base + (index << k)` (i32.shl by 1..3, then i32.add: an array element's address) as one
   * `lea r32, [base + index * 2^k]`, which wraps modulo 2^32 as the two i32 operators do.
   * Consumes the `i32.add` (returns 1).
   */
  private scaledAdd(k: 1 | 2 | 3): number {
    if (this.body[this.pos + 1].noWrap === true && this.foldAddress(k)) return 1;
    const cb = this.constOf(this.peek(2));
    const { ri, rb, iOwned, bOwned } = this.scaledOperands(cb);
    const r = iOwned ? ri : bOwned ? rb! : this.allocGpr();
    const scale = (1 << k) as 2 | 4 | 8;
    this.asm.lea(4, reg(r), rb === undefined ? mem(null, Number(BigInt.asIntN(32, cb!)), reg(ri), scale) : mem(reg(rb), 0, reg(ri), scale));
    if (iOwned && r !== ri) this.gprs.give(ri);
    if (bOwned && r !== rb) this.gprs.give(rb!);
    this.pushV("i32", { k: "reg", r });
    return 1;
  }

  /**
   * `base + (index << k)` that loop versioning proved cannot wrap (hoist.ts marks the i32.add
   * `noWrap`) and that a load right after reads, or a store after one local.get or constant
   * writes: no `lea`, the access's operand is [base + index * 2^k + memory base + offset] (in a
   * sandbox the bounds check forms its end the same way, here). The stack gets a placeholder for
   * the address, whose operand the access's `addressOf` takes. Consumes the `i32.add` (returns
   * true); false, having emitted nothing, when the pattern or the displacement does not fit.
   */
  private foldAddress(k: 1 | 2 | 3): boolean {
    const mc = this.mem(), body = this.body, at = this.pos + 2;
    const after = body[at];
    if (after === undefined || mc.mode === "identity") return false;
    let access: Instr | undefined;
    if (after.op >= 0 && after.op <= 0xff && LOAD_OPS[after.op] !== undefined) access = after;
    else if (after.op === OP_LOCAL_GET || (after.op >= 0x41 && after.op <= 0x44)) { // local.get, a constant: the value
      const store = body[at + 1];
      if (store !== undefined && store.op >= 0 && store.op <= 0xff && STORE_OPS[store.op] !== undefined) access = store;
    }
    if (access === undefined) return false;
    // No pin region may start or end before the access (regionBoundary would flush the placeholder).
    if (this.regions.size !== 0 && (this.regions.has(at) || this.regions.has(at + 1) || (this.region !== undefined && this.region.end <= at))) return false;
    const cb = this.constOf(this.peek(2));
    const baseConst = cb === null ? 0 : Number(BigInt.asUintN(32, cb));
    const offset = access.memOffset ?? 0;
    const bytes = LOAD_OPS[access.op]?.bytes ?? STORE_OPS[access.op]!;
    const disp = mc.base + baseConst + offset;
    if (disp > 0x7fffffff || baseConst + offset + bytes > 0x7fffffff) return false;
    const { ri, rb, iOwned, bOwned } = this.scaledOperands(cb);
    const scale = (1 << k) as 2 | 4 | 8;
    const a = this.asm;
    if (mc.mode === "sandbox") {
      a.lea(8, R.rcx, mem(rb === undefined ? null : reg(rb), baseConst + offset + bytes, reg(ri), scale));
      a.alu("cmp", 8, R.rcx, abs(mc.bytes));
      a.jcc("a", this.trap(Trap.memoryOutOfBounds));
    }
    const m = mem(rb === undefined ? null : reg(rb), disp, reg(ri), scale);
    this.folded = iOwned ? { m, r: ri, other: bOwned ? rb! : -1 } : { m, r: bOwned ? rb! : -1, other: -1 };
    this.pushV("i32", { k: "const", v: 0 });
    return true;
  }

  /** Pops `base index count` of `base + (index << count)`: the index in a register, the base too
   *  unless it is the constant `cb`, each owned by the caller or a pinned local's (`owned`). */
  private scaledOperands(cb: bigint | null): { ri: number; rb: number | undefined; iOwned: boolean; bOwned: boolean } {
    const count = this.popV(), index = this.popV(), base = this.popV();
    this.release(count);
    const ri = this.inPlace(index) ?? this.toReg(index);
    const rb = cb === null ? this.inPlace(base) ?? this.toReg(base) : undefined;
    return { ri, rb, iOwned: this.owned(index, ri), bOwned: this.owned(base, rb) };
  }

  /** Whether register `r` holding operand `o` is the caller's to reuse (not a pinned local's). */
  private owned(o: Opnd, r: number | undefined): boolean {
    return r !== undefined && (o.v.k === "reg" || !(o.v.k === "local" && this.pinned.has(o.v.i)));
  }

  private intShift(op: "shl" | "shr" | "sar" | "rol" | "ror", size: 4 | 8): void {
    const a = this.asm;
    const y = this.popV(), x = this.popV();
    const r = this.toReg(x);
    const c = this.constOf(y);
    if (c !== null) {
      const n = Number(c & BigInt(size * 8 - 1)); // wasm takes the count modulo the width
      if (n !== 0) a.shift(op, size, reg(r), n);
    } else {
      const src = this.gprSrc(y, 4, R.rcx);
      if (Number(src) !== 1 || typeof src === "number") a.mov(4, R.rcx, src as RM);
      a.shift(op, size, reg(r), "cl"); // x86 masks the count to 5/6 bits, as wasm does
    }
    this.release(y);
    this.pushV(x.t, { k: "reg", r });
  }

  private fastDivide(size: 4 | 8, signed: boolean, rem: boolean): void {
    const a = this.asm;
    const y = this.popV(), x = this.popV();
    const c = this.constOf(y);
    const cv = c === null ? 0n : size === 4 ? BigInt.asUintN(32, c) : c;
    if (!signed && cv > 1n && (cv & (cv - 1n)) === 0n && (!rem || cv - 1n <= 0x7fffffffn)) {
      // Unsigned by a power of two: a shift or a mask.
      const r = this.toReg(x);
      if (rem) a.alu("and", size, reg(r), Number(cv - 1n));
      else a.shift("shr", size, reg(r), cv.toString(2).length - 1);
      this.pushV(x.t, { k: "reg", r });
      return;
    }
    const ys = this.gprSrc(y, size, R.rcx);
    if (Number(ys) !== 1 || typeof ys === "number") a.mov(size, R.rcx, ys as RM);
    const xs = this.gprSrc(x, size, R.rax);
    if (Number(xs) !== 0 || typeof xs === "number") a.mov(size, R.rax, xs as RM);
    this.release(y);
    this.release(x);
    this.divideCore(size, signed, rem);
    const r = this.allocGpr();
    a.mov(8, reg(r), R.rax);
    this.pushV(x.t, { k: "reg", r });
  }

  /** A pinned float local (in `px`) read by `next` right away: a store of it, an arithmetic operator whose right
   *  operand it is, or a square root, takes the register as its source (no copy first). */
  private floatFromPin(px: number, t: ValType, next: Instr): boolean {
    const sx = t === "f32" ? "ss" : "sd";
    if (next.op === (t === "f32" ? 0x38 : 0x39) && this.depth > 0) { // f32.store, f64.store: from the register
      const { m, r, owned } = this.addressOf(this.popV(), next.memOffset ?? 0, t === "f32" ? 4 : 8);
      if (t === "f32") this.asm.movss(m, px); else this.asm.movsd(m, px);
      if (owned) this.gprs.give(r);
      return true;
    }
    if (next.op === (t === "f32" ? 0x91 : 0x9f)) { // f32.sqrt, f64.sqrt
      const r = this.allocXmm();
      this.asm.sse(`sqrt${sx}`, r, px);
      this.pushV(t, { k: "xmm", x: r });
      return true;
    }
    const fb = FLOAT_BINARY_OPS[next.op];
    if (!fb || next.name[1] !== t[1] || this.depth === 0) return false; // f32.* for f32, f64.* for f64
    const x = this.popV();
    const r = this.toXmm(x);
    this.asm.sse(`${fb}${sx}`, r, px);
    this.pushV(t, { k: "xmm", x: r });
    return true;
  }

  /**
   * `local.set $p (op (local.get $p) y)`, $p a pinned float local, op add/sub/mul/div and y a constant
   * or a local of $p's type: one `op px, y` on $p's register (no copy to compute in and move back).
   * Called at the local.get; true when it took the next three operators.
   */
  private floatUpdate(l: number, px: number): boolean {
    const body = this.body, k = this.pos, t = this.locals[l];
    const y = body[k + 1], op = body[k + 2], set = body[k + 3];
    if (set === undefined || set.op !== OP_LOCAL_SET || set.index !== l) return false;
    const fb = FLOAT_BINARY_OPS[op.op];
    if (!fb || op.name[1] !== t[1]) return false; // f32.* for f32, f64.* for f64
    let src: number | Mem;
    if (y.op === (t === "f32" ? 0x43 : 0x44)) src = this.floatConstant(y.value!); // f32.const, f64.const
    else if (y.op === OP_LOCAL_GET && this.locals[y.index!] === t) src = this.pinnedX.get(y.index!) ?? this.localSlot(y.index!);
    else return false;
    this.forgetLocal(l);
    this.asm.sse(`${fb}${t === "f32" ? "ss" : "sd"}`, px, src);
    return true;
  }

  private floatBinary(k: "f32" | "f64", op: "add" | "sub" | "mul" | "div"): void {
    let y = this.popV(), x = this.popV();
    if ((op === "add" || op === "mul") && x.v.k !== "xmm" && y.v.k === "xmm") [x, y] = [y, x];
    const r = this.toXmm(x);
    const src = this.xmmSrc(y, 1);
    this.asm.sse(`${op}${k === "f32" ? "ss" : "sd"}`, r, src);
    this.release(y);
    this.pushV(k, { k: "xmm", x: r });
  }

  // ---- conditions: compare + branch / if / select fusion

  /** An i32 value used as a condition: non-zero. */
  private valueCondition(o: Opnd): Condition {
    return { x: o, y: { v: { k: "const", v: 0 }, t: "i32", d: -1 }, size: 4, cc: "ne" };
  }

  /** A comparison: fused into a following br_if / if / select, else materialised as 0/1. */
  private condition(c: Condition, next: Instr | undefined): number {
    const a = this.asm;
    const op = next?.op;
    const top = this.ctrls[this.ctrls.length - 1];
    if (top.andIf?.at === this.pos) { // c2 of `if (result i32) c1 (then ... c2) (else 0)` feeding an `if`
      const pre = { elseLabel: top.andIf.elseLabel, thenLabel: undefined };
      this.ctrls.pop(); // the first if's arm: straight-line code that fell through to here
      return 4 + this.ifAt(this.pos + 4, this.body[this.pos + 4], c, pre); // else, i32.const 0, end, if
    }
    if (op === OP_IF) {
      const at = this.andIfAt(this.pos + 1);
      if (at >= 0) {
        // c1 false: straight to the second if's else arm; true: its arm computes c2 (condition above).
        this.flush();
        const cc = this.emitCondition(c);
        const elseLabel = a.label();
        a.jcc(NEGATE[cc], elseLabel);
        this.ctrls.push({
          kind: "block", label: a.label(), hasElse: false, height: this.depth, params: [], results: [], unreachable: false,
          paramSave: -1, transparent: true, andIf: { at, elseLabel },
        });
        return 1;
      }
    }
    if (this.shortCircuit?.at === this.pos) { // the second comparison of `if (c1 && c2)` / `if (c1 || c2)`
      const pre = this.shortCircuit;
      this.shortCircuit = undefined;
      this.ifOp(this.body[this.pos + 2], c, undefined, pre);
      return 2;
    }
    if (op === 0x0d) { this.brIf(next!.depth!, c); return 1; } // br_if
    // Not into the `if` that starts a pin region: it is entered at the `if` (regionBoundary).
    if (op === 0x04 && !this.regionStartsAt(this.pos + 1)) return 1 + this.ifAt(this.pos + 1, next!, c); // if
    if ((op === 0x1b || op === 0x1c) && !isFloat(this.types[this.depth - 1])) { this.select(c); return 1; } // select
    if (op === 0x71 || op === 0x72) { // i32.and, i32.or; [i32.eqz;] if (trap arm)
      const taken = this.trapArmAfterAndOr(c, op === 0x72);
      if (taken > 0) return taken;
    }
    if ((op === 0x71 || op === 0x72) && this.body[this.pos + 2]?.op === 0x04 && !this.regionStartsAt(this.pos + 2) && this.plainIf(this.pos + 2)) { // i32.and, i32.or; if
      const top = this.depth > 0 ? this.vs[this.depth - 1] : undefined;
      if (top?.k === "reg" && top.bool) {
        // `a && b` / `a || b` of two comparisons as the condition of an if (a already a 0/1 value):
        // two conditional jumps, no 0/1 for b and no and/or.
        this.ifOp(this.body[this.pos + 2], c, { value: this.popV(), or: op === 0x72 });
        return 2;
      }
    }
    const end = this.rotateTo ? -1 : this.shortCircuitEnd();
    if (end >= 0) {
      // `if (c1 && c2)` / `if (c1 || c2)`, c2 computed by pure operators: c1 decides first with a
      // jump to the else arm (&&) or the then arm (||); c2 at `end` completes the `if` (ifOp).
      this.flush();
      const cc = this.emitCondition(c);
      const elseLabel = a.label();
      const thenLabel = this.body[end + 1].op === 0x72 ? a.label() : undefined;
      if (thenLabel) a.jcc(cc, thenLabel);
      else a.jcc(NEGATE[cc], elseLabel);
      this.shortCircuit = { at: end, elseLabel, thenLabel };
      return 0;
    }
    const cc = this.emitCondition(c);
    const r = this.allocGpr(); // may spill: only movs, flags survive
    a.setcc(cc, reg(r));
    a.movzx(4, reg(r), 1, reg(r));
    this.pushV("i32", { k: "reg", r, bool: true });
    return 0;
  }
  /**
   * `a && c` / `a || c` (a a 0/1 value below the comparison c, `or` for ||), or its negation (an
   * i32.eqz next), as the condition of an `if` whose arm ends in a trap (`trapArms`, asc's
   * `assert(x < n && y < m)`): two conditional jumps to the deferred arm, no 0/1 for c and no and/or
   * (De Morgan for the negation: !(a && c) = !a || !c). The operators taken (through the arm's
   * `end`), or 0 when it does not apply (nothing emitted).
   */
  private trapArmAfterAndOr(c: Condition, or: boolean): number {
    const top = this.depth > 0 ? this.vs[this.depth - 1] : undefined;
    if (top?.k !== "reg" || !top.bool || this.rotateTo) return 0;
    const neg = this.body[this.pos + 2]?.op === 0x45; // i32.eqz
    const at = this.pos + (neg ? 3 : 2);
    const end = this.body[at]?.op === OP_IF && !this.targetedBlocks.has(at) && !this.regionStartsAt(at) ? this.trapArms.get(at) : undefined;
    if (end === undefined) return 0;
    const a = this.asm;
    const first = this.popV();
    const r = (first.v as { r: number }).r;
    const arm = a.label(), skip = a.label();
    const anyOf = or !== neg; // the arm runs when either (negated) operand holds, else when both do
    a.test(4, reg(r), reg(r));
    this.release(first);
    if (anyOf) a.jcc(neg ? "e" : "ne", arm);
    else a.jcc(neg ? "ne" : "e", skip);
    const cc = this.emitCondition(c);
    a.jcc(neg ? NEGATE[cc] : cc, arm);
    a.bind(skip);
    this.pushDeferredArm(arm, at, end);
    return end - this.pos;
  }

  /**
   * The comparison at `pos` is the left operand of `i32.and` / `i32.or` whose right operand is a
   * comparison computed by pure operators (locals, globals, constants, integer arithmetic that
   * cannot trap, comparisons: skipping them changes nothing) and whose result is the condition of
   * an ordinary `if` without parameters: the position of that second comparison, else -1.
   */
  private shortCircuitEnd(): number {
    const body = this.body;
    let h = 0;
    for (let k = this.pos + 1; k < body.length && k < this.pos + 24; k++) {
      const op = body[k].op;
      let compare = false;
      if (op === 0x20 || op === 0x23 || (op >= 0x41 && op <= 0x44)) h++; // local.get, global.get, constants
      else if (op === 0x45 || op === 0x50) compare = true; // i32.eqz, i64.eqz: one operand
      else if (isComparison(op)) { h--; compare = true; }
      else if ((op >= 0x6a && op <= 0x78 && (op < 0x6d || op > 0x70)) || (op >= 0x7c && op <= 0x8a && (op < 0x7f || op > 0x82))) h--; // arithmetic but div/rem
      else if ((op >= 0x67 && op <= 0x69) || (op >= 0x79 && op <= 0x7b) || op === 0xa7 || op === 0xac || op === 0xad || (op >= 0xc0 && op <= 0xc4)) { /* unary */ }
      else return -1;
      if (h <= 0) return -1;
      if (h === 1 && compare) {
        const join = body[k + 1]?.op, at = k + 2;
        if (join !== 0x71 && join !== 0x72) continue;
        const ins = body[at];
        if (ins?.op !== OP_IF || this.regionStartsAt(at) || !this.plainIf(at) || this.hasParams(ins)) return -1;
        return k;
      }
    }
    return -1;
  }

  /**
   * `if (result i32) (then X c2) (else i32.const 0) end` at `pos`, its result the condition of an
   * ordinary `if` without parameters right after: `c1 && c2` where c2 may trap or have effects (asc's
   * `while (j >= lo && a[j] > v)`), only evaluated when c1 holds. Then c1 and c2 can branch to the
   * second if's else arm with no 0/1 made: the position of c2 (the arm's last operator, a
   * comparison), else -1. Neither if may be a branch target, a pin region's start, a loop test.
   */
  private andIfAt(pos: number): number {
    const body = this.body, ins = body[pos];
    const bt = ins.blockType;
    if (bt === undefined || bt.kind !== "val" || bt.type !== "i32") return -1;
    if (this.regionStartsAt(pos) || !this.ordinaryIf(pos) || this.targetedBlocks.has(pos) || this.loopHeaders?.has(pos)) return -1;
    let depth = 0, elseAt = -1;
    for (let k = pos + 1; k < body.length && k < pos + 200; k++) {
      const op = body[k].op;
      if (op === 0x02 || op === 0x03 || op === 0x04) depth++;
      else if (op === 0x05 && depth === 0) { elseAt = k; break; }
      else if (op === 0x0b && depth-- === 0) return -1; // no else
      else if (depth === 0 && (op === 0x00 || op === 0x0c || op === 0x0e || op === 0x0f)) return -1; // the arm may not reach c2
    }
    if (elseAt < 0) return -1;
    const zero = body[elseAt + 1], end = body[elseAt + 2], next = body[elseAt + 3];
    if (zero?.op !== 0x41 || zero.value !== 0 || end?.op !== 0x0b || next?.op !== OP_IF) return -1;
    if (!isComparison(body[elseAt - 1].op)) return -1;
    const second = elseAt + 3; // may be a loop's test (rotated: translated again at the back edge) or a cold if
    if (this.regionStartsAt(second) || (this.trapArms.has(second) && !this.targetedBlocks.has(second)) || this.hasParams(next)) return -1;
    return elseAt - 1;
  }

  /** Whether a block, loop or if takes parameters. */
  private hasParams(ins: Instr): boolean {
    return ins.blockType?.kind === "type" && blockSignature(this.ctx.mod, ins.blockType).params.length > 0;
  }
  /** The `if` at `pos` has no deferred or cold arm (`trapArms`, `coldIfs`) unless it is a branch target. */
  private ordinaryIf(pos: number): boolean {
    return this.targetedBlocks.has(pos) || (!this.trapArms.has(pos) && !this.coldIfs.has(pos));
  }
  /** The `if` at `pos` takes the ordinary path of `ifAt` (`ifOp`): no rotated loop test, no
   *  deferred or cold arm. */
  private plainIf(pos: number): boolean {
    return !this.rotateTo && !this.loopHeaders?.has(pos) && this.ordinaryIf(pos);
  }

  /** Emit the compare; returns the condition code that is true when the condition holds. Scratch: rax, rcx, xmm0, xmm1. */
  private emitCondition(c: Condition): Cond {
    const a = this.asm;
    let { x, y, cc } = c;
    if (c.float) {
      const xs = x.v.k === "xmm" ? x.v.x : (this.xmmSrcTo(x, 0), 0);
      a.sse(c.float === "f32" ? "ucomiss" : "ucomisd", xs, this.xmmSrc(y, 1));
    } else {
      if (x.v.k === "const" && y.v.k !== "const") { [x, y] = [y, x]; cc = SWAP[cc]; }
      let xs: RM | number = this.gprSrc(x, c.size, R.rax);
      const ys = this.gprSrc(y, c.size, R.rcx);
      if (typeof xs === "number" || (isMem(xs) && isMem(ys))) {
        a.mov(c.size, R.rax, xs);
        xs = R.rax;
      }
      if (ys === 0 && !isMem(xs)) a.test(c.size, xs, xs);
      else a.alu("cmp", c.size, xs, ys);
    }
    this.release(c.x);
    this.release(c.y);
    return cc;
  }
  private xmmSrcTo(o: Opnd, x: number): void {
    const src = o.v.k === "local" || o.v.k === "slot" ? this.memOf(o) : null;
    if (src && isMem(src)) {
      if (bytesOf(o.t) === 8) this.asm.movsd(x, src);
      else this.asm.movss(x, src);
    } else if (o.v.k === "const") {
      this.constToXmm(o.v.v, o.t, x);
    } else {
      this.moveGpr(R.rax, o);
      this.asm.movToXmm(8, x, R.rax);
    }
  }

  private brIf(depth: number, cond: Condition): void {
    const a = this.asm;
    this.flush(); // the rest of the stack: the target expects its values in their slots
    const cc = this.emitCondition(cond);
    const c = this.ctrls[this.ctrls.length - 1 - depth];
    const n = this.branchArity(c);
    if (c.kind !== "func" && !c.inReg && (n === 0 || this.depth - n === c.height)) {
      a.jcc(cc, c.label);
      return;
    }
    if (c.inReg) {
      // The value into RESULT_REG (a mov keeps the flags), then the conditional jump; it also stays
      // on the stack, in its slot, for the fall-through.
      this.forgetReg(RESULT_REG);
      this.moveGpr(reg(RESULT_REG), this.peek(0));
      a.jcc(cc, c.label);
      return;
    }
    const skip = a.label();
    a.jcc(NEGATE[cc], skip);
    this.branchTo(depth);
    a.bind(skip);
  }

  /** `if` with condition `cond`; with `first`, the condition is `first.value && cond` (or `||`),
   *  first.value a 0/1 value tested before cond is compared; with `pre`, an earlier comparison's
   *  jumps were made to its labels (`shortCircuitEnd`, `andIfAt`). */
  private ifOp(ins: Instr, cond: Condition, first?: { value: Opnd; or: boolean }, pre?: { elseLabel: Label; thenLabel: Label | undefined }): void {
    const a = this.asm;
    const sig = this.blockSig(ins.blockType);
    this.flush();
    const height = this.depth - sig.params.length;
    let paramSave = -1;
    if (sig.params.length > 0) {
      paramSave = this.scratchNext;
      this.scratchNext += sig.params.length;
      for (let i = 0; i < sig.params.length; i++) {
        a.mov(8, R.rax, this.slot(height + i));
        a.mov(8, this.scratchSlot(paramSave + i), R.rax);
      }
    }
    const elseLabel = pre ? pre.elseLabel : a.label();
    const thenLabel = pre ? pre.thenLabel : first?.or ? a.label() : undefined;
    if (first) {
      const r = (first.value.v as { r: number }).r;
      a.test(4, reg(r), reg(r));
      if (thenLabel) a.jcc("ne", thenLabel); // a || b: a true, the then arm
      else a.jcc("e", elseLabel); // a && b: a false, the else arm
      this.release(first.value);
    }
    const cc = this.emitCondition(cond);
    a.jcc(NEGATE[cc], elseLabel);
    if (thenLabel) {
      a.bind(thenLabel);
      // Reached from before the second comparison too (`pre`): registers hold nothing known.
      if (pre) this.forgetLocalsInRegs(false);
    }
    this.ctrls.push({
      kind: "if", label: a.label(), elseLabel, hasElse: false, height, params: sig.params, results: sig.results,
      unreachable: false, paramSave, inReg: resultInReg(sig),
    });
  }

  /** select with cmov: [a, b] on the stack, the condition already popped. Integer types only. */
  private select(cond: Condition): void {
    const a = this.asm;
    const b = this.popV(), x = this.popV();
    const size = bytesOf(x.t);
    const r = this.toReg(x);
    let bs = this.gprSrc(b, size, R.rdx);
    if (typeof bs === "number") { this.moveGpr(R.rdx, b); bs = R.rdx; }
    const cc = this.emitCondition(cond);
    a.cmovcc(NEGATE[cc], size, reg(r), bs);
    this.release(b);
    this.pushV(x.t, { k: "reg", r });
  }

  // ---- memory

  /** Register holding the zero-extended address (owned), the sandbox check, and the operand.
   *  Identity and guarded memories check nothing: a guarded access out of bounds faults (context.ts). */
  private addressOf(addr: Opnd, offset: number, bytes: number): { m: Mem; r: number; owned: boolean } {
    const f = this.folded;
    if (f !== null) { // `addr` is foldAddress's placeholder
      this.folded = null;
      if (f.other !== -1) this.gprs.give(f.other);
      return { m: f.m, r: f.r, owned: f.r !== -1 };
    }
    const a = this.asm;
    const mc = this.mem();
    // A pinned local is used in place as the base register (not owned: the caller must not free it).
    const pin = addr.v.k === "local" ? this.pinned.get(addr.v.i) : undefined;
    const owned = pin === undefined;
    const c = this.constOf(addr);
    if (c !== null && mc.mode !== "sandbox" && mc.base + Number(c) + offset <= 0x7fffffff) {
      // A constant address (a global array's): an absolute operand. Out of bounds, a guarded
      // memory faults there as anywhere else.
      return { m: abs(mc.base + Number(c) + offset), r: -1, owned: false };
    }
    const r = pin ?? this.toReg(addr);
    if (mc.mode === "sandbox") {
      const end = offset + bytes;
      if (end <= 0x7fffffff) a.lea(8, R.rcx, mem(reg(r), end));
      else {
        a.mov(4, R.rcx, offset | 0);
        a.alu("add", 8, R.rcx, reg(r));
        a.alu("add", 8, R.rcx, bytes);
      }
      a.alu("cmp", 8, R.rcx, abs(mc.bytes));
      a.jcc("a", this.trap(Trap.memoryOutOfBounds));
    }
    const disp = mc.base + offset;
    if (disp <= 0x7fffffff) return { m: mem(reg(r), disp), r, owned };
    a.movabs(R.rcx, disp);
    return { m: mem(reg(r), 0, R.rcx, 1), r, owned };
  }

  /** A load; returns the operators after it that it took: when it is the right operand of a float
   *  arithmetic operator (`floatOperatorAfter`), that operator reads it from memory (`mulsd x, [m]`:
   *  no register and no move for the loaded value). */
  private fastLoad(ins: Instr, l: { bytes: 1 | 2 | 4 | 8; signed: boolean; to: 4 | 8 }): number {
    const a = this.asm;
    const t = ins.name.slice(0, 3) as ValType;
    const addr = this.popV();
    if (isFloat(t)) {
      const k = this.floatOperatorAfter(t);
      if (k > 0) {
        // The left operand into a register the stack owns first (as floatBinary), then the address.
        const x = this.toXmm(this.popV());
        const { m, r, owned } = this.addressOf(addr, ins.memOffset ?? 0, l.bytes);
        a.sse(`${FLOAT_BINARY_OPS[this.body[k].op]!}${t === "f32" ? "ss" : "sd"}`, x, m);
        if (owned) this.gprs.give(r);
        // What lay between: ends of inlined bodies (the load is their result), after the access
        // (a fault there names the inlined function, as the load alone did).
        for (let j = this.pos + 1; j < k; j++) {
          if (this.body[j].op === OP_INLINE_END) this.inlineMarker(this.body[j]);
          else this.ctrls.pop();
        }
        this.pushV(t, { k: "xmm", x });
        return k - this.pos;
      }
      const x = this.allocXmm();
      const { m, r, owned } = this.addressOf(addr, ins.memOffset ?? 0, l.bytes);
      if (t === "f64") a.movsd(x, m); else a.movss(x, m);
      if (owned) this.gprs.give(r);
      this.pushV(t, { k: "xmm", x });
      return 0;
    }
    const { m, r: base, owned } = this.addressOf(addr, ins.memOffset ?? 0, l.bytes);
    const r = owned ? base : this.allocGpr(); // may spill: only movs, the address register is not in the stack
    const d = reg(r);
    if (l.bytes === 8) a.mov(8, d, m);
    else if (l.bytes === 4) {
      if (l.signed) a.movsx(8, d, 4, m);
      else a.mov(4, d, m);
    } else if (l.signed) a.movsx(l.to, d, l.bytes, m);
    else a.movzx(4, d, l.bytes, m);
    this.pushV(t, { k: "reg", r });
    return 0;
  }

  /** Where the float arithmetic operator of type `t` is that takes the value the load at `pos`
   *  pushes as its right operand, past ends of inlined bodies (a transparent block whose result it
   *  is, then INLINE_END: asc's `StaticArray<f64>#__get`); -1 if there is none. */
  private floatOperatorAfter(t: ValType): number {
    const body = this.body;
    let k = this.pos + 1, open = this.ctrls.length;
    for (;;) {
      const o = body[k];
      if (o === undefined) return -1;
      if (o.op === OP_INLINE_END) { k++; continue; }
      if (o.op === 0x0b) { // end
        const c = this.ctrls[--open];
        if (c === undefined || !c.transparent || c.unreachable || c.results.length !== 1 || this.deadNesting !== 0) return -1;
        k++;
        continue;
      }
      return FLOAT_BINARY_OPS[o.op] !== undefined && o.name.startsWith(t) ? k : -1;
    }
  }

  private fastStore(ins: Instr, bytes: 1 | 2 | 4 | 8): void {
    const a = this.asm;
    const value = this.popV();
    const addr = this.popV();
    let src: RM | number;
    const v = value.v;
    if (v.k === "xmm" && bytes >= 4) src = v.x;
    else if (v.k === "reg") src = reg(v.r);
    else if (v.k === "local" && this.pinned.has(v.i)) src = reg(this.pinned.get(v.i)!); // a pinned local: its register
    else if (v.k === "const" && typeof v.v === "number" && (bytes < 8 || v.v <= 0x7fffffff)) src = signedLow(v.v, bytes);
    else if (v.k === "const" && typeof v.v === "bigint" && (bytes < 8 || simm32(BigInt.asIntN(64, v.v)))) src = Number(BigInt.asIntN(bytes * 8, v.v));
    else { this.moveGpr(R.rdx, value); src = R.rdx; }
    const { m, r, owned } = this.addressOf(addr, ins.memOffset ?? 0, bytes);
    if (v.k === "xmm" && bytes >= 4) {
      if (bytes === 8) a.movsd(m, src as number); else a.movss(m, src as number);
    } else a.mov(bytes, m, src);
    if (owned) this.gprs.give(r);
    this.release(value);
  }

  // ---- calls

  /** Arguments pushed straight from wherever they are; live registers spilled first (all caller-saved). */
  private fastCall(ft: FuncType, target: Label | RM, preservesPins = false, noReturn = false): void {
    const a = this.asm;
    this.forgetLocalsInRegs(false); // the callee clobbers every pool register
    const n = ft.params.length;
    this.spillRegisters(this.depth - n);
    for (let i = 0; i < n; i++) {
      const o = this.peek(n - 1 - i);
      const v = o.v;
      if (v.k === "reg") a.push(reg(v.r));
      else if (v.k === "local" || v.k === "slot") a.push(this.memOf(o));
      else if (v.k === "const" && typeof v.v === "number" && v.v <= 0x7fffffff) a.push(v.v);
      else if (v.k === "const" && typeof v.v === "bigint" && simm32(BigInt.asIntN(64, v.v))) a.push(Number(BigInt.asIntN(64, v.v)));
      else { this.moveGpr(R.rax, o); a.push(R.rax); }
    }
    for (let i = 0; i < n; i++) this.release(this.popV());
    // A call right before `unreachable` needs no pinned locals afterwards (an abort).
    if (!preservesPins && !noReturn) this.savePinned();
    // Several results arrive in rax and the multi-return cells, then go to their slots: the values
    // below them must be in theirs first, and materialising one (a constant) may need rax.
    if (ft.results.length > 1) this.flush();
    a.call(target);
    if (n > 0) a.alu("add", 8, R.rsp, 8 * n);
    if (noReturn) return;
    if (!preservesPins) this.restorePinned();
    const results = ft.results;
    if (results.length === 1) {
      const t = results[0];
      if (isFloat(t)) {
        const x = this.allocXmm();
        a.movToXmm(8, x, R.rax);
        this.pushV(t, { k: "xmm", x });
      } else {
        const r = this.allocGpr();
        a.mov(8, reg(r), R.rax);
        this.pushV(t, { k: "reg", r });
      }
    } else if (results.length > 1) this.collectResults(ft);
  }

  private globalType(index: number): ValType {
    return this.ctx.globalTypes[index].type;
  }

  private setBool(cc: Cond, dst: Mem): void {
    this.asm.setcc(cc, R.rax);
    this.asm.movzx(4, R.rax, 1, R.rax);
    this.asm.mov(8, dst, R.rax);
  }

  private divide(size: 4 | 8, signed: boolean, rem: boolean): void {
    const a = this.asm;
    const y = this.pop();
    const x = this.top();
    a.mov(size, R.rcx, y);
    a.mov(size, R.rax, x);
    this.divideCore(size, signed, rem);
    a.mov(8, x, R.rax);
  }

  /** rax = rax / rcx (or remainder), with wasm's traps; result zero-extended for i32. Clobbers rdx. */
  private divideCore(size: 4 | 8, signed: boolean, rem: boolean): void {
    const a = this.asm;
    a.test(size, R.rcx, R.rcx);
    a.jcc("e", this.trap(Trap.divideByZero));
    const done = a.label();
    if (signed) {
      // INT_MIN / -1 overflows (trap); INT_MIN % -1 is 0 (x86 would fault, so special-case -1).
      const normal = a.label();
      a.alu("cmp", size, R.rcx, -1);
      a.jcc("ne", normal);
      if (rem) {
        a.alu("xor", 4, R.rax, R.rax);
        a.jmp(done);
      } else {
        if (size === 4) a.alu("cmp", 4, R.rax, -0x80000000);
        else {
          a.movabs(R.rdx, -0x8000000000000000n);
          a.alu("cmp", 8, R.rax, R.rdx);
        }
        a.jcc("e", this.trap(Trap.integerOverflow));
      }
      a.bind(normal);
      a.signExtendAx(size);
      a.unary("idiv", size, R.rcx);
    } else {
      a.alu("xor", 4, R.rdx, R.rdx);
      a.unary("div", size, R.rcx);
    }
    if (rem) a.mov(size, R.rax, R.rdx);
    a.bind(done);
    if (size === 4) a.mov(4, R.rax, R.rax);
  }

  /** SWAR population count (Hacker's Delight 5-1): popcnt is not in the x86-64 baseline. */
  private popcount(size: 4 | 8): void {
    const a = this.asm;
    const x = this.top();
    a.mov(size, R.rax, x); // i32: upper half zero, so the 64-bit count is the 32-bit count
    a.mov(8, R.rcx, R.rax);
    a.shift("shr", 8, R.rcx, 1);
    a.movabs(R.rdx, 0x5555555555555555n);
    a.alu("and", 8, R.rcx, R.rdx);
    a.alu("sub", 8, R.rax, R.rcx); // x - ((x >> 1) & 0x55..)
    a.movabs(R.rdx, 0x3333333333333333n);
    a.mov(8, R.rcx, R.rax);
    a.alu("and", 8, R.rcx, R.rdx);
    a.shift("shr", 8, R.rax, 2);
    a.alu("and", 8, R.rax, R.rdx);
    a.alu("add", 8, R.rax, R.rcx); // pairs summed into nibbles
    a.mov(8, R.rcx, R.rax);
    a.shift("shr", 8, R.rcx, 4);
    a.alu("add", 8, R.rax, R.rcx);
    a.movabs(R.rdx, 0x0f0f0f0f0f0f0f0fn);
    a.alu("and", 8, R.rax, R.rdx); // bytes
    a.movabs(R.rdx, 0x0101010101010101n);
    a.imul(8, R.rax, R.rdx);
    a.shift("shr", 8, R.rax, 56); // sum of all bytes
    a.mov(8, x, R.rax);
  }

  // ---------------------------------------------------------------- memory

  private mem() {
    const m = this.ctx.memory;
    if (!m) this.unsupported(`${this.current?.name} without a memory`);
    return m;
  }

  /**
   * Effective address of an access of `bytes` at [addr + offset]: rax = zero-extended address;
   * returns the operand to use. Sandbox mode checks addr + offset + bytes <= size (clobbers rcx);
   * identity and guarded modes check nothing (context.ts MemoryConfig).
   */
  private address(addrSlot: Mem, offset: number, bytes: number): Mem {
    const a = this.asm;
    const m = this.mem();
    a.mov(4, R.rax, addrSlot); // zero-extends: wasm addresses are unsigned
    if (m.mode === "sandbox") {
      const end = offset + bytes;
      if (end <= 0x7fffffff) a.lea(8, R.rcx, mem(R.rax, end));
      else {
        a.mov(4, R.rcx, offset | 0);
        a.alu("add", 8, R.rcx, R.rax);
        a.alu("add", 8, R.rcx, bytes);
      }
      a.alu("cmp", 8, R.rcx, abs(m.bytes));
      a.jcc("a", this.trap(Trap.memoryOutOfBounds));
    }
    const disp = m.base + offset;
    if (disp <= 0x7fffffff) return mem(R.rax, disp);
    a.movabs(R.rcx, disp);
    a.alu("add", 8, R.rax, R.rcx);
    return mem(R.rax, 0);
  }

  private load(ins: Instr, l: { bytes: 1 | 2 | 4 | 8; signed: boolean; to: 4 | 8 }): void {
    const a = this.asm;
    const addr = this.pop();
    const m = this.address(addr, ins.memOffset ?? 0, l.bytes);
    if (l.bytes === 8) a.mov(8, R.rax, m);
    else if (l.bytes === 4) {
      if (l.signed) a.movsx(8, R.rax, 4, m);
      else a.mov(4, R.rax, m);
    } else if (l.signed) a.movsx(l.to, R.rax, l.bytes, m);
    else a.movzx(4, R.rax, l.bytes, m);
    const t = ins.name.slice(0, 3) as ValType;
    a.mov(8, this.push(t), R.rax);
  }

  private store(ins: Instr, bytes: 1 | 2 | 4 | 8): void {
    const a = this.asm;
    const value = this.pop();
    const addr = this.pop();
    a.mov(8, R.rdx, value);
    const m = this.address(addr, ins.memOffset ?? 0, bytes);
    a.mov(bytes, m, R.rdx);
  }

  /** Bounds check for a range [reg, reg + rcx) against the current size (sandbox and guarded:
   *  a bulk operator must trap before it writes anything). */
  private checkRange(start: number, len: number = R.rcx): void {
    const m = this.mem();
    if (m.mode === "identity") return;
    const a = this.asm;
    a.lea(8, R.rax, mem(start, 0, len, 1));
    a.alu("cmp", 8, R.rax, abs(m.bytes));
    a.jcc("a", this.trap(Trap.memoryOutOfBounds));
  }

  /** Adds the memory's base to each of `regs` (clobbers rax when the base does not fit a disp32). */
  private addBase(...regs: number[]): void {
    const a = this.asm;
    const base = this.mem().base;
    if (base === 0) return;
    if (base > 0x7fffffff) a.movabs(R.rax, base);
    for (const r of regs) {
      if (base <= 0x7fffffff) a.lea(8, r, mem(r, base));
      else a.alu("add", 8, r, R.rax);
    }
  }

  private memoryGrow(): void {
    const a = this.asm;
    const m = this.mem();
    const x = this.top();
    const fail = a.label();
    const done = a.label();
    a.mov(4, R.rax, x); // delta pages, unsigned
    a.mov(8, R.rcx, abs(m.pages));
    a.lea(8, R.rdx, mem(R.rax, 0, R.rcx, 1));
    a.alu("cmp", 8, R.rdx, m.maxPages);
    a.jcc("a", fail);
    if (m.mode === "guarded") {
      // mprotect(base + old bytes, delta bytes, PROT_READ|PROT_WRITE) (Linux x86-64 syscall 10;
      // `syscall` clobbers rax, rcx, r11: the value stack is in slots here, r9/r10/r12-r15 survive).
      // Failure (no memory for the mapping) is memory.grow's -1.
      a.mov(8, R.r8, R.rdx); // new pages
      a.mov(8, R.rsi, R.rax);
      a.shift("shl", 8, R.rsi, 16);
      a.mov(8, R.rdi, R.rcx);
      a.shift("shl", 8, R.rdi, 16);
      this.addBase(R.rdi);
      a.mov(4, R.rdx, 3);
      a.mov(4, R.rax, 10);
      a.db(0x0f, 0x05); // syscall
      a.test(8, R.rax, R.rax);
      a.jcc("ne", fail);
      a.mov(8, R.rcx, abs(m.pages)); // old pages
      a.mov(8, R.rdx, R.r8);
    }
    a.mov(8, abs(m.pages), R.rdx);
    a.shift("shl", 8, R.rdx, 16);
    a.mov(8, abs(m.bytes), R.rdx);
    a.mov(8, R.rax, R.rcx); // result: the old size
    a.jmp(done);
    a.bind(fail);
    a.mov(4, R.rax, -1);
    a.bind(done);
    a.mov(8, x, R.rax);
  }

  /**
   * memory.fill and memory.copy (range checks, which trap before any byte is written, then the
   * module's memset or memmove, bulk.ts) with their operands taken from wherever they are
   * (registers, constants, locals) into the routine's registers, not through their slots. The
   * values below them go to their slots first: the routine clobbers the pool registers rsi, rdi
   * and r8 and xmm0..xmm8. rax, rcx and rdx never hold a stack value, so the length goes to rcx,
   * a fill's byte to rdx and a copy's destination to rax before anything else.
   */
  private fastMemoryFill(): void {
    const a = this.asm;
    this.forgetLocalsInRegs(true); // rsi, rdi, r8 are clobbered
    this.spillRegisters(this.depth - 3);
    const n = this.popV(), v = this.popV(), d = this.popV();
    const byte = v.v.k === "const" ? Number(BigInt(v.v.v) & 0xffn) : -1;
    this.moveU32(R.rcx, n);
    if (byte < 0) this.moveU32(R.rdx, v);
    this.moveU32(R.rdi, d);
    this.release(n); this.release(v); this.release(d);
    this.checkRange(R.rdi);
    this.addBase(R.rdi);
    if (byte === 0) a.alu("xor", 4, R.rax, R.rax);
    else if (byte > 0) a.mov(4, R.rax, byte);
    else a.movzx(4, R.rax, 1, R.rdx);
    a.call(this.ctx.bulkMemory.fill);
  }
  private fastMemoryCopy(): void {
    const a = this.asm;
    this.forgetLocalsInRegs(true); // rsi, rdi, r8 are clobbered
    this.spillRegisters(this.depth - 3);
    const n = this.popV(), s = this.popV(), d = this.popV();
    this.moveU32(R.rcx, n);
    this.moveU32(R.rax, d); // through rax: each address may be in the other's register
    this.moveU32(R.rsi, s);
    a.mov(4, R.rdi, R.rax);
    this.release(n); this.release(s); this.release(d);
    this.checkRange(R.rdi);
    this.checkRange(R.rsi);
    this.addBase(R.rdi, R.rsi);
    a.call(this.ctx.bulkMemory.copy);
  }

  /** An i32 operand into `dst`, zero-extended (a bulk operator's unsigned address or length). */
  private moveU32(dst: number, o: Opnd): void {
    const v = o.v;
    if (v.k === "const") this.asm.mov(4, dst, Number(BigInt.asUintN(32, BigInt(v.v))) | 0);
    else if (v.k === "reg") this.asm.mov(4, dst, reg(v.r));
    else this.asm.mov(4, dst, this.memOf(o));
  }

  /** Pops the (destination, source, length) operands of a bulk operator into rdi, rsi, rcx
   *  (zero-extended: they are unsigned 32-bit). */
  private popDstSrcLen(): void {
    const a = this.asm;
    const n = this.pop();
    const s = this.pop();
    const d = this.pop();
    a.mov(4, R.rdi, d);
    a.mov(4, R.rsi, s);
    a.mov(4, R.rcx, n);
  }

  private memoryInit(segment: number): void {
    const a = this.asm;
    const seg = this.ctx.dataSegments[segment];
    this.popDstSrcLen();
    a.lea(8, R.rax, mem(R.rsi, 0, R.rcx, 1));
    a.alu("cmp", 8, R.rax, abs(seg.length));
    a.jcc("a", this.trap(Trap.memoryOutOfBounds));
    this.checkRange(R.rdi);
    a.movabs(R.rax, seg.bytes);
    a.alu("add", 8, R.rsi, R.rax);
    this.addBase(R.rdi);
    a.call(this.ctx.bulkMemory.copy);
  }

  // ---------------------------------------------------------------- calls

  private call(funcIndex: number): void {
    const ft = this.ctx.funcTypes[funcIndex];
    const imported = funcIndex < this.ctx.importBindings.length;
    if (imported) {
      const b = this.ctx.importBindings[funcIndex];
      if (b.kind === "intrinsic") {
        const n = ft.params.length;
        const args: Mem[] = [];
        for (let i = 0; i < n; i++) args.push(this.slot(this.depth - n + i));
        this.depth -= n;
        const result = ft.results.length ? this.push(ft.results[0]) : null;
        emitIntrinsic(this.asm, this.ctx, b.module, b.name, ft, args, result, this.depth);
        return;
      }
    }
    this.emitCall(ft, this.ctx.funcLabels[funcIndex]!);
  }

  /** Push the arguments (first first), call, pop them, collect the results. */
  private emitCall(ft: FuncType, target: Label): void {
    const a = this.asm;
    const n = ft.params.length;
    for (let i = 0; i < n; i++) a.push(this.slot(this.depth - n + i));
    this.savePinned();
    a.call(target);
    if (n > 0) a.alu("add", 8, R.rsp, 8 * n);
    this.restorePinned();
    this.depth -= n;
    this.collectResults(ft);
  }

  private collectResults(ft: FuncType): void {
    const a = this.asm;
    ft.results.forEach((t, i) => {
      const dst = this.push(t);
      if (i === 0) a.mov(8, dst, R.rax);
      else {
        a.mov(8, R.rcx, abs(this.ctx.multiReturn, 8 * (i - 1)));
        a.mov(8, dst, R.rcx);
      }
    });
  }

  /** A funcref is the function's entry address; its signature id sits in the 8 bytes before it. */
  private callIndirect(typeIndex: number, table: number): void {
    const a = this.asm;
    const t = this.ctx.tables[table];
    if (!t) this.unsupported("call_indirect without a table");
    const ft = this.ctx.mod.types[typeIndex];
    const idx = this.pop();
    a.mov(4, R.rax, idx);
    a.alu("cmp", 8, R.rax, abs(t.size));
    a.jcc("ae", this.trap(Trap.undefinedElement));
    a.movabs(R.rcx, t.entries);
    a.mov(8, R.r11, mem(R.rcx, 0, R.rax, 8));
    a.test(8, R.r11, R.r11);
    a.jcc("e", this.trap(Trap.uninitializedElement));
    a.alu("cmp", 4, mem(R.r11, -8), this.ctx.sigIds[typeIndex]);
    a.jcc("ne", this.trap(Trap.indirectCallTypeMismatch));
    const n = ft.params.length;
    for (let i = 0; i < n; i++) a.push(this.slot(this.depth - n + i));
    this.savePinned();
    a.call(R.r11);
    if (n > 0) a.alu("add", 8, R.rsp, 8 * n);
    this.restorePinned();
    this.depth -= n;
    this.collectResults(ft);
  }

  // ---------------------------------------------------------------- tables (§4.4.6)

  private funcRef(f: number): Label {
    const l = this.ctx.funcLabels[f];
    if (!l) this.unsupported(`ref.func of intrinsic import ${f}`);
    return l;
  }

  /** rcx = address of entry `rax` of table `t` after checking rax < size (rax zero-extended i32). */
  private tableEntry(t: number): void {
    const a = this.asm;
    const tc = this.ctx.tables[t];
    a.alu("cmp", 8, R.rax, abs(tc.size));
    a.jcc("ae", this.trap(Trap.tableOutOfBounds));
    a.movabs(R.rcx, tc.entries);
    a.lea(8, R.rcx, mem(R.rcx, 0, R.rax, 8));
  }

  private tableGet(t: number): void {
    const a = this.asm;
    a.mov(4, R.rax, this.pop());
    this.tableEntry(t);
    a.mov(8, R.rax, mem(R.rcx, 0));
    a.mov(8, this.push(this.ctx.tables[t].elem), R.rax);
  }

  private tableSet(t: number): void {
    const a = this.asm;
    const v = this.pop();
    a.mov(4, R.rax, this.pop());
    this.tableEntry(t);
    a.mov(8, R.rdx, v);
    a.mov(8, mem(R.rcx, 0), R.rdx);
  }

  /** Range check: `start` + `len` (both zero-extended) must not exceed the u64 cell `limit`. */
  private checkTableRange(start: number, len: number, limit: Label): void {
    const a = this.asm;
    a.lea(8, R.rax, mem(start, 0, len, 1));
    a.alu("cmp", 8, R.rax, abs(limit));
    a.jcc("a", this.trap(Trap.tableOutOfBounds));
  }

  private tableGrow(t: number): void {
    const a = this.asm;
    const tc = this.ctx.tables[t];
    const n = this.pop();
    const init = this.top();
    const fail = a.label();
    const done = a.label();
    a.mov(4, R.rax, n); // delta, unsigned
    a.mov(8, R.rdx, abs(tc.size));
    a.lea(8, R.rcx, mem(R.rax, 0, R.rdx, 1));
    a.mov(8, R.rsi, tc.capacity);
    a.alu("cmp", 8, R.rcx, R.rsi);
    a.jcc("a", fail);
    a.mov(8, abs(tc.size), R.rcx);
    a.movabs(R.rdi, tc.entries); // fill the new entries [old, old + n) with init
    a.lea(8, R.rdi, mem(R.rdi, 0, R.rdx, 8));
    a.mov(8, R.rcx, R.rax);
    a.mov(8, R.rax, init);
    a.cld();
    a.repStos(8);
    a.mov(8, R.rax, R.rdx); // result: the old size
    a.jmp(done);
    a.bind(fail);
    a.mov(4, R.rax, -1);
    a.bind(done);
    a.mov(8, init, R.rax);
    this.types[this.depth - 1] = "i32";
  }

  private tableFill(t: number): void {
    const a = this.asm;
    const tc = this.ctx.tables[t];
    const n = this.pop();
    const v = this.pop();
    const i = this.pop();
    a.mov(4, R.rdi, i);
    a.mov(4, R.rcx, n);
    this.checkTableRange(R.rdi, R.rcx, tc.size);
    this.entryAddress(R.rdi, tc.entries);
    a.mov(8, R.rax, v);
    a.cld();
    a.repStos(8);
  }

  /** `index` (a register holding an entry index) = the address of that 8-byte entry of `entries`. Clobbers rax. */
  private entryAddress(index: number, entries: Label): void {
    this.asm.movabs(R.rax, entries);
    this.asm.lea(8, index, mem(R.rax, 0, index, 8));
  }

  private tableCopy(dst: number, src: number): void {
    const a = this.asm;
    const d = this.ctx.tables[dst], s = this.ctx.tables[src];
    this.popDstSrcLen();
    this.checkTableRange(R.rdi, R.rcx, d.size);
    this.checkTableRange(R.rsi, R.rcx, s.size);
    this.entryAddress(R.rdi, d.entries);
    this.entryAddress(R.rsi, s.entries);
    // memmove: copy backwards when the destination starts inside the source.
    const forward = a.label();
    const done = a.label();
    a.alu("cmp", 8, R.rdi, R.rsi);
    a.jcc("be", forward);
    a.lea(8, R.rsi, mem(R.rsi, -8, R.rcx, 8));
    a.lea(8, R.rdi, mem(R.rdi, -8, R.rcx, 8));
    a.db(0xfd); // std
    a.repMovs(8);
    a.cld();
    a.jmp(done);
    a.bind(forward);
    a.cld();
    a.repMovs(8);
    a.bind(done);
  }

  private tableInit(t: number, segment: number): void {
    const a = this.asm;
    const tc = this.ctx.tables[t];
    const seg = this.ctx.elemSegments[segment];
    this.popDstSrcLen();
    this.checkTableRange(R.rsi, R.rcx, seg.length);
    this.checkTableRange(R.rdi, R.rcx, tc.size);
    this.entryAddress(R.rdi, tc.entries);
    this.entryAddress(R.rsi, seg.items);
    a.cld();
    a.repMovs(8);
  }

  /** br_table with the index in eax (every other value in its slot). */
  private brTableOnRax(ins: Instr): void {
    const a = this.asm;
    const targets = [...ins.targets!, ins.defaultTarget!];
    // Clamp the index to the default entry, then jump through a table of per-target landing pads.
    a.mov(4, R.rcx, targets.length - 1);
    a.alu("cmp", 4, R.rax, R.rcx);
    a.cmovcc("a", 4, R.rax, R.rcx);
    const table = a.label();
    a.movabs(R.rcx, table);
    a.jmp(mem(R.rcx, 0, R.rax, 8));
    const pads = new Map<number, Label>();
    for (const d of targets) if (!pads.has(d)) pads.set(d, a.label());
    a.align(8, 0xcc);
    a.bind(table);
    for (const d of targets) a.dq(pads.get(d)!);
    for (const [d, pad] of pads) {
      a.bind(pad);
      this.branchTo(d);
    }
    this.markUnreachable();
  }
}

export { CC };
