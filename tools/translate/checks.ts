/**
 * Repeated trap checks: a pre-pass over a function body (after inlining and global promotion,
 * before the one-pass translator, function.ts) that drops a check whose outcome is already known.
 *
 * A check is `<cond> if <arm> end` where the arm never falls through nor branches (it ends in
 * `unreachable`: asc's `call abort; unreachable`) and `<cond>` is a pure integer expression of
 * locals, globals, constants and loads (`PURE`). Past such a check, `<cond>` was 0. When the same
 * operators compute the condition again and nothing it reads can have changed in between, it is 0
 * again (it would not trap either: its loads read the same addresses), so the second check, its
 * condition included, is dropped. The case it is for: `a[i] += x` in AssemblyScript inlines
 * `StaticArray#__get` and `#__set`, each comparing i with the length in a's header.
 *
 * What keeps a known condition (WebAssembly core spec §4.4 instructions, §3.3.8 control): straight-
 * line code, entering a `block` or the arm of an `if`, a `br_if` not taken, the end of a `loop` (only
 * reached by falling through), the end of a block no branch targets. What forgets: `local.set`/`tee`
 * of a local it reads, `global.set` of a global it reads, stores, bulk memory operators and
 * `memory.grow` if it loads, calls if it loads or reads a global, and every other label (the start
 * of a `loop`, `else`, the end of an `if` or of a branch target) and unconditional branch.
 */
import type { Instr } from "../wasm/types.ts";

/** Pure operators a condition may consist of: [values popped, pushed]. */
const PURE = new Map<number, [number, number]>([
  [0x20, [0, 1]], [0x23, [0, 1]], [0x41, [0, 1]], [0x42, [0, 1]], // local.get, global.get, i32.const, i64.const
  [0x45, [1, 1]], [0x50, [1, 1]], [0xa7, [1, 1]], [0xac, [1, 1]], [0xad, [1, 1]], // eqz, wrap, extend_i32_s/u
]);
// i32 compares 0x46..0x4f, i64 compares 0x51..0x5a; i32 add..rotr 0x6a..0x78 without div/rem
// (0x6d..0x70), i64 add..rotr 0x7c..0x8a without div/rem (0x7f..0x82): pop 2, push 1.
for (let op = 0x46; op <= 0x4f; op++) PURE.set(op, [2, 1]);
for (let op = 0x51; op <= 0x5a; op++) PURE.set(op, [2, 1]);
for (let op = 0x6a; op <= 0x78; op++) if (op < 0x6d || op > 0x70) PURE.set(op, [2, 1]);
for (let op = 0x7c; op <= 0x8a; op++) if (op < 0x7f || op > 0x82) PURE.set(op, [2, 1]);
// integer loads i32.load..i64.load32_u (0x28, 0x29, 0x2c..0x35): pop 1, push 1.
for (const op of [0x28, 0x29, 0x2c, 0x2d, 0x2e, 0x2f, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35]) PURE.set(op, [1, 1]);

const OP_BLOCK = 0x02, OP_LOOP = 0x03, OP_IF = 0x04, OP_ELSE = 0x05, OP_END = 0x0b, OP_UNREACHABLE = 0x00;
const OP_BR = 0x0c, OP_BR_IF = 0x0d, OP_BR_TABLE = 0x0e, OP_RETURN = 0x0f, OP_CALL = 0x10, OP_CALL_INDIRECT = 0x11;
const OP_LOCAL_SET = 0x21, OP_LOCAL_TEE = 0x22, OP_GLOBAL_SET = 0x24, OP_MEMORY_GROW = 0x40;
/** Stores (i32.store .. i64.store32) and the bulk memory operators that write (memory.init/copy/fill). */
export const isStore = (op: number) => op >= 0x36 && op <= 0x3e;
export const isBulkMemory = (op: number) => op === 0xfc08 || op === 0xfc0a || op === 0xfc0b;

/** A condition known to be 0, and what it reads. */
interface Known { locals: number[]; globals: number[]; loads: boolean }

/** Where the arm of the `if` at `k` ends (its `end`), when it is a trap arm: no `else`, no
 *  branch inside, last operator `unreachable`. */
export function trapArmEnd(body: Instr[], k: number): number | undefined {
  if ((body[k].blockType?.kind ?? "empty") !== "empty") return undefined;
  let depth = 0;
  for (let i = k + 1; i < body.length; i++) {
    const op = body[i].op;
    if (op === OP_BLOCK || op === OP_LOOP || op === OP_IF) depth++;
    else if (op === OP_BR || op === OP_BR_IF || op === OP_BR_TABLE) return undefined;
    else if (op === OP_ELSE && depth === 0) return undefined;
    else if (op === OP_END) {
      if (depth === 0) return i > k + 1 && body[i - 1].op === OP_UNREACHABLE ? i : undefined;
      depth--;
    }
  }
  return undefined;
}

/** The start of the pure expression computing the one value the operator at `k` consumes, or -1. */
function conditionStart(body: Instr[], k: number): number {
  let need = 1;
  for (let j = k - 1; j >= 0; j--) {
    const effect = PURE.get(body[j].op);
    if (!effect) return -1;
    need -= effect[1];
    if (need < 0) return -1;
    need += effect[0];
    if (need === 0) return j;
  }
  return -1;
}

/** A branch to `depth` from inside the blocks `open` (by position): its block is `targeted`. */
function markTarget(open: number[], targeted: Set<number>, depth: number): void {
  const k = open[open.length - 1 - depth];
  if (k !== undefined) targeted.add(k);
}

/** Blocks (by position) some branch targets: their ends are labels. */
export function targetedBlocks(body: Instr[]): Set<number> {
  const open: number[] = [];
  const targeted = new Set<number>();
  for (let i = 0; i < body.length; i++) {
    const ins = body[i];
    switch (ins.op) {
      case OP_BLOCK: case OP_LOOP: case OP_IF: open.push(i); break;
      case OP_END: open.pop(); break;
      case OP_BR: case OP_BR_IF: markTarget(open, targeted, ins.depth!); break;
      case OP_BR_TABLE:
        for (const t of ins.targets!) markTarget(open, targeted, t);
        markTarget(open, targeted, ins.defaultTarget!);
        break;
    }
  }
  return targeted;
}

/** A construct open at the current operator: its opcode, position, and for an `if` what was known
 *  at its start (its `else` arm starts from that). */
export interface OpenConstruct<T> { op: number; at: number; before?: Map<string, T> }

/**
 * What straight-line knowledge (`known`) keeps across control flow (WebAssembly core spec
 * §3.3.8): entering a `block` or the arm of an `if` keeps it, an `else` arm starts from what was
 * known at its `if`, the end of a `loop` (reached only by falling through) or of a block no branch
 * targets keeps it; the start of a `loop`, the end of an `if` or of a branch target (`targeted`)
 * and an unconditional branch forget it. Returns whether `op` was one of these operators.
 */
export function followControl<T>(op: number, at: number, known: Map<string, T>, open: OpenConstruct<T>[], targeted: Set<number>): boolean {
  switch (op) {
    case OP_BLOCK: open.push({ op, at }); return true;
    case OP_LOOP: open.push({ op, at }); known.clear(); return true;
    case OP_IF: open.push({ op, at, before: new Map(known) }); return true;
    case OP_ELSE: {
      const o = open[open.length - 1];
      known.clear();
      if (o?.before) for (const [key, k] of o.before) known.set(key, k);
      return true;
    }
    case OP_END: {
      const o = open.pop();
      if (o && (o.op === OP_IF || (o.op === OP_BLOCK && targeted.has(o.at)))) known.clear();
      return true;
    }
    case OP_BR: case OP_BR_TABLE: case OP_RETURN: case OP_UNREACHABLE: known.clear(); return true;
  }
  return false;
}

/** Forget the known conditions that `test` picks. */
function forgetIf(known: Map<string, Known>, test: (k: Known) => boolean): void {
  for (const [key, k] of known) if (test(k)) known.delete(key);
}

/** `body` without the checks whose condition is known to be 0 there (the same array if none). */
export function dropRepeatedChecks(body: Instr[]): Instr[] {
  // Cheap test first: most bodies have at most one check per condition.
  let arms = 0;
  for (let k = 0; k < body.length && arms < 2; k++) if (body[k].op === OP_IF && body[k - 1]?.op !== undefined && PURE.has(body[k - 1].op)) arms++;
  if (arms < 2) return body;

  const targeted = targetedBlocks(body);
  const known = new Map<string, Known>();
  const open: OpenConstruct<Known>[] = [];
  const out: Instr[] = [];
  let dropped = false;
  for (let i = 0; i < body.length; i++) {
    const ins = body[i];
    const op = ins.op;
    if (op === OP_IF) {
      const end = trapArmEnd(body, i);
      const start = end === undefined ? -1 : conditionStart(body, i);
      if (end !== undefined && start >= 0) {
        const span = body.slice(start, i);
        const key = span.map((s) => `${s.op}:${s.index ?? ""}:${s.value ?? ""}:${s.memOffset ?? ""}`).join(" ");
        if (known.has(key)) {
          out.length -= span.length; // the condition was copied already
          i = end; // and the check with it
          dropped = true;
          continue;
        }
        for (let j = i; j <= end; j++) out.push(body[j]);
        i = end;
        known.set(key, {
          locals: span.filter((s) => s.op === 0x20).map((s) => s.index!),
          globals: span.filter((s) => s.op === 0x23).map((s) => s.index!),
          loads: span.some((s) => s.op >= 0x28 && s.op <= 0x35),
        });
        continue;
      }
    }
    out.push(ins);
    if (followControl(op, i, known, open, targeted)) continue;
    switch (op) {
      case OP_LOCAL_SET: case OP_LOCAL_TEE: forgetIf(known, (k) => k.locals.includes(ins.index!)); break;
      case OP_GLOBAL_SET: forgetIf(known, (k) => k.globals.includes(ins.index!)); break;
      case OP_CALL: case OP_CALL_INDIRECT: forgetIf(known, (k) => k.loads || k.globals.length > 0); break;
      case OP_MEMORY_GROW: forgetIf(known, (k) => k.loads); break;
      default:
        if (isStore(op) || isBulkMemory(op)) forgetIf(known, (k) => k.loads);
    }
  }
  return dropped ? out : body;
}
