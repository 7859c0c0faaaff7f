/**
 * Function translator: one pass over a validated wasm function body, emitting x86-64.
 *
 * Model (the simplest that is obviously right; register allocation comes with the translator issue):
 * every wasm value lives in an 8-byte frame slot. Operand-stack depth d is the slot at
 * [rbp - 8*(L + d + 1)] where L counts the non-parameter locals plus scratch slots. Each operator
 * loads its operands into rax/rcx/rdx, computes and stores the result back, so the instructions a
 * wasm operator emits can be read straight off its visitor method. i32 values are kept
 * zero-extended in their slots (tools/link/ABI.md).
 *
 * Control flow (WebAssembly core spec §3.3.8 / §4.4.8): because the stack height at every label
 * is static, a branch copies its arity values to the target's slots and jumps; `end` merely binds
 * the label. Code after an unconditional branch is skipped until the matching `else`/`end`.
 */
import { Assembler, CC, Label, R, abs, mem, type Cond, type Mem, type Size } from "../x86/assembler.ts";
import type { BlockType, FuncType, Instr, ValType } from "../wasm/types.ts";
import { blockSignature, funcType } from "../wasm/validate.ts";
import type { ModuleContext } from "./context.ts";
import { UnsupportedError } from "./errors.ts";
import { emitIntrinsic } from "./intrinsics.ts";
import { translateFloat, type FloatHost } from "./float.ts";
import { Trap, type TrapKind } from "./traps.ts";

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


export class FunctionTranslator implements FloatHost {
  private readonly type: FuncType;
  private readonly nParams: number;
  private readonly locals: ValType[];
  /** Non-parameter locals plus scratch slots: the operand stack starts below them. */
  private localArea = 0;
  private scratchNext = 0;
  private depth = 0;
  private maxDepth = 0;
  private readonly types: ValType[] = [];
  private readonly ctrls: Ctrl[] = [];
  /** Nesting of blocks opened inside unreachable code (skipped entirely). */
  private deadNesting = 0;
  private readonly trapLabels = new Map<TrapKind, Label>();
  private current: Instr | undefined;

  constructor(
    readonly asm: Assembler,
    private readonly ctx: ModuleContext,
    private readonly funcIndex: number,
    private readonly localsDecl: ValType[],
    private readonly body: Instr[],
    private readonly displayName: string,
  ) {
    this.type = funcType(ctx.mod, funcIndex);
    this.nParams = this.type.params.length;
    this.locals = [...this.type.params, ...localsDecl];
  }

  /** Emit the whole function at the current position (its label is bound by the caller). */
  translate(): void {
    const a = this.asm;
    // Scratch slots: a copy of the parameters of every `if` that has some (for its else arm).
    let scratch = 0;
    for (const ins of this.body) {
      if (ins.name === "if" && ins.blockType?.kind === "type") scratch += blockSignature(this.ctx.mod, ins.blockType).params.length;
    }
    this.scratchNext = this.localsDecl.length;
    this.localArea = this.localsDecl.length + scratch;

    // Prologue: frame pointer chain (backtraces), frame, stack-exhaustion check, zeroed locals.
    a.push(R.rbp);
    a.mov(8, R.rbp, R.rsp);
    a.alu("sub", 8, R.rsp, 0x7fff0000); // placeholder forcing imm32; patched below
    const frameSizeAt = a.offset - 4;
    a.alu("cmp", 8, R.rsp, abs(this.ctx.stackLimit));
    a.jcc("b", this.trap(Trap.callStackExhausted));
    this.zeroLocals();

    const funcEnd = a.label();
    this.ctrls.push({
      kind: "func", label: funcEnd, hasElse: false, height: 0, params: [], results: this.type.results,
      unreachable: false, paramSave: -1,
    });

    for (const ins of this.body) {
      this.current = ins;
      this.visit(ins);
    }
    if (this.ctrls.length !== 0) throw new Error(`${this.displayName}: body does not end with 'end'`);

    // Trap landing pads: `call` so the return address lies inside this function.
    for (const [kind, label] of this.trapLabels) {
      a.bind(label);
      a.call(this.ctx.traps.get(kind)!);
    }
    const frameBytes = 8 * (this.localArea + this.maxDepth);
    a.patchI32(frameSizeAt, (frameBytes + 15) & ~15);
  }

  // ---------------------------------------------------------------- slots

  private slot(d: number): Mem {
    return mem(R.rbp, -8 * (this.localArea + d + 1));
  }
  private localSlot(l: number): Mem {
    if (l < this.nParams) return mem(R.rbp, 16 + 8 * (this.nParams - 1 - l));
    return mem(R.rbp, -8 * (l - this.nParams + 1));
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
    let l = this.trapLabels.get(kind);
    if (!l) {
      l = this.asm.label(`${this.displayName}.trap${kind}`);
      this.trapLabels.set(kind, l);
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

  private zeroLocals(): void {
    const a = this.asm;
    const n = this.localsDecl.length;
    if (n === 0) return;
    if (n <= 8) {
      for (let i = 0; i < n; i++) a.mov(8, this.localSlot(this.nParams + i), 0);
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
    this.copyToTarget(c);
    this.asm.jmp(c.label);
  }

  private emitReturn(): void {
    const a = this.asm;
    const results = this.type.results;
    const n = results.length;
    for (let i = 1; i < n; i++) {
      a.mov(8, R.rcx, this.slot(this.depth - n + i));
      a.mov(8, abs(this.ctx.multiReturn, 8 * (i - 1)), R.rcx);
    }
    if (n > 0) a.mov(8, R.rax, this.slot(this.depth - n));
    a.mov(8, R.rsp, R.rbp);
    a.pop(R.rbp);
    a.ret();
  }

  private markUnreachable(): void {
    const c = this.ctrls[this.ctrls.length - 1];
    c.unreachable = true;
  }

  // ---------------------------------------------------------------- visitor

  private visit(ins: Instr): void {
    const cur = this.ctrls[this.ctrls.length - 1];
    if (cur.unreachable) {
      // Skip dead code, tracking only the block structure.
      switch (ins.name) {
        case "block": case "loop": case "if":
          this.deadNesting++;
          return;
        case "else":
          if (this.deadNesting > 0) return;
          break;
        case "end":
          if (this.deadNesting > 0) { this.deadNesting--; return; }
          break;
        default:
          return;
      }
    }
    const a = this.asm;
    const name = ins.name;

    switch (name) {
      // ---- control (§4.4.8)
      case "nop": return;
      case "unreachable":
        a.jmp(this.trap(Trap.unreachable));
        this.markUnreachable();
        return;
      case "block": case "loop": {
        const sig = this.blockSig(ins.blockType);
        const label = a.label();
        if (name === "loop") a.bind(label);
        this.ctrls.push({
          kind: name, label, hasElse: false, height: this.depth - sig.params.length, params: sig.params,
          results: sig.results, unreachable: false, paramSave: -1,
        });
        return;
      }
      case "if": {
        const sig = this.blockSig(ins.blockType);
        const cond = this.pop();
        const elseLabel = a.label();
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
        a.alu("cmp", 4, cond, 0);
        a.jcc("e", elseLabel);
        this.ctrls.push({
          kind: "if", label: a.label(), elseLabel, hasElse: false, height, params: sig.params, results: sig.results,
          unreachable: false, paramSave,
        });
        return;
      }
      case "else": {
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
      case "end": {
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
          if (!c.unreachable) a.jmp(c.label);
          a.bind(c.elseLabel!);
          for (let i = 0; i < c.params.length; i++) {
            a.mov(8, R.rax, this.scratchSlot(c.paramSave + i));
            a.mov(8, this.slot(c.height + i), R.rax);
          }
        }
        if (c.kind !== "loop") a.bind(c.label);
        this.depth = c.height;
        for (const t of c.results) this.push(t);
        return;
      }
      case "br":
        this.branchTo(ins.depth!);
        this.markUnreachable();
        return;
      case "br_if": {
        const cond = this.pop();
        const skip = a.label();
        a.alu("cmp", 4, cond, 0);
        a.jcc("e", skip);
        this.branchTo(ins.depth!);
        a.bind(skip);
        return;
      }
      case "br_table": return this.brTable(ins);
      case "return":
        this.emitReturn();
        this.markUnreachable();
        return;
      case "call": return this.call(ins.index!);
      case "call_indirect": return this.callIndirect(ins.typeIndex!, ins.table ?? 0);

      // ---- parametric
      case "drop": this.pop(); return;
      case "select": {
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

      // ---- variables
      case "local.get": {
        a.mov(8, R.rax, this.localSlot(ins.index!));
        a.mov(8, this.push(this.locals[ins.index!]), R.rax);
        return;
      }
      case "local.set": case "local.tee": {
        const v = name === "local.set" ? this.pop() : this.top();
        a.mov(8, R.rax, v);
        a.mov(8, this.localSlot(ins.index!), R.rax);
        return;
      }
      case "global.get": {
        a.mov(8, R.rax, abs(this.ctx.globals[ins.index!]));
        a.mov(8, this.push(this.globalType(ins.index!)), R.rax);
        return;
      }
      case "global.set": {
        a.mov(8, R.rax, this.pop());
        a.mov(8, abs(this.ctx.globals[ins.index!]), R.rax);
        return;
      }

      // ---- constants
      case "i32.const": case "f32.const": {
        const v = Number(ins.value) | 0;
        a.mov(4, R.rax, v);
        a.mov(8, this.push(name === "i32.const" ? "i32" : "f32"), R.rax);
        return;
      }
      case "i64.const": case "f64.const": {
        const v = BigInt.asIntN(64, BigInt(ins.value!));
        const dst = this.push(name === "i64.const" ? "i64" : "f64");
        if (v >= -0x80000000n && v <= 0x7fffffffn) {
          a.mov(8, dst, Number(v));
        } else {
          a.movabs(R.rax, v);
          a.mov(8, dst, R.rax);
        }
        return;
      }

      // ---- memory
      case "memory.size": {
        a.mov(8, R.rax, abs(this.mem().pages));
        a.mov(8, this.push("i32"), R.rax);
        return;
      }
      case "memory.grow": return this.memoryGrow();
      case "memory.fill": return this.memoryFill();
      case "memory.copy": return this.memoryCopy();
      case "memory.init": return this.memoryInit(ins.segment!);
      case "data.drop": {
        a.mov(8, abs(this.ctx.dataSegments[ins.index ?? ins.segment!].length), 0);
        return;
      }
    }

    if (name in LOADS) return this.load(ins, LOADS[name]);
    if (name in STORES) return this.store(ins, STORES[name]);

    const bin = INT_BINARY[name];
    if (bin) {
      const y = this.pop();
      const x = this.top();
      a.mov(bin.size, R.rax, x);
      if (bin.op === "imul") a.imul(bin.size, R.rax, y);
      else a.alu(bin.op, bin.size, R.rax, y);
      a.mov(8, x, R.rax);
      return;
    }
    const sh = INT_SHIFT[name];
    if (sh) {
      const y = this.pop();
      const x = this.top();
      a.mov(4, R.rcx, y);
      a.mov(sh.size, R.rax, x);
      a.shift(sh.op, sh.size, R.rax, "cl"); // x86 masks the count to 5/6 bits, as wasm does
      a.mov(8, x, R.rax);
      return;
    }
    const cmp = INT_COMPARE[name];
    if (cmp) {
      const y = this.pop();
      const x = this.top();
      a.mov(cmp.size, R.rax, x);
      a.alu("cmp", cmp.size, R.rax, y);
      this.setBool(cmp.cc, x);
      return;
    }
    const div = INT_DIV[name];
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

  private globalType(index: number): ValType {
    const m = this.ctx.mod;
    let n = 0;
    for (const imp of m.imports) {
      if (imp.desc.kind === "global") {
        if (n === index) return imp.desc.global.type;
        n++;
      }
    }
    return m.globals[index - n].type.type;
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
    a.mov(8, x, R.rax);
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
   * returns the operand to use. Sandbox mode checks addr + offset + bytes <= size (clobbers rcx).
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

  /** Bounds check for a range [reg, reg + rcx) against the current size (sandbox only). */
  private checkRange(start: number, len: number = R.rcx): void {
    const m = this.mem();
    if (m.mode !== "sandbox") return;
    const a = this.asm;
    a.lea(8, R.rax, mem(start, 0, len, 1));
    a.alu("cmp", 8, R.rax, abs(m.bytes));
    a.jcc("a", this.trap(Trap.memoryOutOfBounds));
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

  private memoryFill(): void {
    const a = this.asm;
    const m = this.mem();
    const n = this.pop();
    const v = this.pop();
    const d = this.pop();
    a.mov(4, R.rdi, d);
    a.mov(4, R.rcx, n);
    this.checkRange(R.rdi);
    if (m.base !== 0) a.lea(8, R.rdi, mem(R.rdi, m.base));
    a.mov(4, R.rax, v);
    a.cld();
    a.repStos(1);
  }

  private memoryCopy(): void {
    const a = this.asm;
    const m = this.mem();
    const n = this.pop();
    const s = this.pop();
    const d = this.pop();
    a.mov(4, R.rdi, d);
    a.mov(4, R.rsi, s);
    a.mov(4, R.rcx, n);
    this.checkRange(R.rdi);
    this.checkRange(R.rsi);
    if (m.base !== 0) {
      a.lea(8, R.rdi, mem(R.rdi, m.base));
      a.lea(8, R.rsi, mem(R.rsi, m.base));
    }
    // memmove: copy backwards when the destination starts inside the source.
    const forward = a.label();
    const done = a.label();
    a.alu("cmp", 8, R.rdi, R.rsi);
    a.jcc("be", forward);
    a.lea(8, R.rsi, mem(R.rsi, -1, R.rcx, 1));
    a.lea(8, R.rdi, mem(R.rdi, -1, R.rcx, 1));
    a.db(0xfd); // std: string operations go downwards
    a.repMovs(1);
    a.cld();
    a.jmp(done);
    a.bind(forward);
    a.cld();
    a.repMovs(1);
    a.bind(done);
  }

  private memoryInit(segment: number): void {
    const a = this.asm;
    const m = this.mem();
    const seg = this.ctx.dataSegments[segment];
    const n = this.pop();
    const s = this.pop();
    const d = this.pop();
    a.mov(4, R.rdi, d);
    a.mov(4, R.rsi, s);
    a.mov(4, R.rcx, n);
    a.lea(8, R.rax, mem(R.rsi, 0, R.rcx, 1));
    a.alu("cmp", 8, R.rax, abs(seg.length));
    a.jcc("a", this.trap(Trap.memoryOutOfBounds));
    this.checkRange(R.rdi);
    a.movabs(R.rax, seg.bytes);
    a.alu("add", 8, R.rsi, R.rax);
    if (m.base !== 0) a.lea(8, R.rdi, mem(R.rdi, m.base));
    a.cld();
    a.repMovs(1);
  }

  // ---------------------------------------------------------------- calls

  private call(funcIndex: number): void {
    const ft = funcType(this.ctx.mod, funcIndex);
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
      this.emitCall(ft, b.target);
      return;
    }
    this.emitCall(ft, this.ctx.funcLabels[funcIndex]!);
  }

  /** Push the arguments (first first), call, pop them, collect the results. */
  private emitCall(ft: FuncType, target: Label): void {
    const a = this.asm;
    const n = ft.params.length;
    for (let i = 0; i < n; i++) a.push(this.slot(this.depth - n + i));
    a.call(target);
    if (n > 0) a.alu("add", 8, R.rsp, 8 * n);
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

  private callIndirect(typeIndex: number, table: number): void {
    const a = this.asm;
    const t = this.ctx.tables[table];
    if (!t) this.unsupported("call_indirect without a table");
    const ft = this.ctx.mod.types[typeIndex];
    const idx = this.pop();
    a.mov(4, R.rax, idx);
    a.alu("cmp", 4, R.rax, abs(t.size));
    a.jcc("ae", this.trap(Trap.undefinedElement));
    a.shift("shl", 8, R.rax, 4);
    a.movabs(R.rcx, t.entries);
    a.alu("add", 8, R.rax, R.rcx);
    a.mov(8, R.r11, mem(R.rax, 0));
    a.test(8, R.r11, R.r11);
    a.jcc("e", this.trap(Trap.uninitializedElement));
    a.alu("cmp", 4, mem(R.rax, 8), this.ctx.sigIds[typeIndex]);
    a.jcc("ne", this.trap(Trap.indirectCallTypeMismatch));
    const n = ft.params.length;
    for (let i = 0; i < n; i++) a.push(this.slot(this.depth - n + i));
    a.call(R.r11);
    if (n > 0) a.alu("add", 8, R.rsp, 8 * n);
    this.depth -= n;
    this.collectResults(ft);
  }

  private brTable(ins: Instr): void {
    const a = this.asm;
    const targets = [...ins.targets!, ins.defaultTarget!];
    const idx = this.pop();
    // Clamp the index to the default entry, then jump through a table of per-target landing pads.
    a.mov(4, R.rax, idx);
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
