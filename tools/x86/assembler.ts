/**
 * x86 assembler: the one encoder used by the translator (64-bit code) and by the boot stub
 * (16-bit real mode, 32-bit protected mode, 64-bit long mode).
 *
 * Source of truth: Intel SDM Vol. 2, ch. 2 (instruction format: prefixes, REX, ModRM, SIB,
 * displacement, immediate) and the per-instruction pages cited in `forms.ts`.
 *
 * CONTRACT (other parts of the tree are written against exactly this API):
 *  - Registers are numbers 0..15 (`R.rax` .. `R.r15`). Byte registers with `size 1` use the
 *    low byte (al, cl, ..., sil, dil need REX; ah/ch/dh/bh are never used).
 *  - `size` is the operand size in bytes: 1, 2, 4 or 8. In 16-bit mode size 2 is the default and
 *    4 gets 0x66; in 32/64-bit mode size 4 is default and 2 gets 0x66; size 8 needs 64-bit mode (REX.W).
 *  - Memory operands: `mem(base, disp, index, scale)`; `abs(addrOrLabel)` is an absolute [disp32]
 *    with no base register (in 64-bit mode encoded with SIB "no base, no index", never RIP-relative;
 *    the address must fit in a sign-extended 32-bit value). In 16-bit mode every memory operand is
 *    encoded with the 0x67 prefix and 32-bit addressing.
 *  - Labels: `label()` makes one, `bind(l)` fixes it at the current position (address = origin +
 *    offset), `defineAbsolute(l, addr)` fixes it at an absolute address (for data placed by the
 *    linker). Anything taking a Label may be used before the label is bound: a fixup is recorded
 *    and resolved by `finish()`. Branches to labels always use the near form (rel32; rel16 in
 *    16-bit mode), so code size never depends on label positions.
 *  - `finish()` resolves all fixups and returns the bytes; it throws naming the label if any
 *    label is still unbound, or if an absolute value does not fit its field.
 */

export const R = {
  rax: 0, rcx: 1, rdx: 2, rbx: 3, rsp: 4, rbp: 5, rsi: 6, rdi: 7,
  r8: 8, r9: 9, r10: 10, r11: 11, r12: 12, r13: 13, r14: 14, r15: 15,
} as const;
export type Reg = number;
export type Size = 1 | 2 | 4 | 8;
export type Bits = 16 | 32 | 64;

/** Condition codes, in the order of their 4-bit encoding (Intel SDM Vol. 1, Appendix B). */
export const CC = {
  o: 0, no: 1, b: 2, ae: 3, e: 4, ne: 5, be: 6, a: 7,
  s: 8, ns: 9, p: 10, np: 11, l: 12, ge: 13, le: 14, g: 15,
} as const;
export type Cond = keyof typeof CC;

export class Label {
  /** Absolute address once bound/defined, else undefined. */
  address: number | undefined = undefined;
  constructor(readonly name: string) {}
}

export interface Mem {
  readonly kind: "mem";
  readonly base: Reg | null;
  readonly index: Reg | null;
  readonly scale: 1 | 2 | 4 | 8;
  /** A number, or a Label whose absolute address (plus `addend`) is the displacement. */
  readonly disp: number | Label;
  readonly addend: number;
}
export type RM = Reg | Mem;

export function mem(base: Reg | null, disp: number = 0, index: Reg | null = null, scale: 1 | 2 | 4 | 8 = 1): Mem {
  return { kind: "mem", base, index, scale, disp, addend: 0 };
}
/** [disp32] absolute address (a number or a label's address + addend). */
export function abs(addr: number | Label, addend: number = 0): Mem {
  return { kind: "mem", base: null, index: null, scale: 1, disp: addr, addend };
}
export function isMem(x: unknown): x is Mem {
  return typeof x === "object" && x !== null && (x as Mem).kind === "mem";
}

export type AluOp = "add" | "or" | "adc" | "sbb" | "and" | "sub" | "xor" | "cmp";
export type UnaryOp = "not" | "neg" | "mul" | "imul1" | "div" | "idiv" | "inc" | "dec";
export type ShiftOp = "rol" | "ror" | "rcl" | "rcr" | "shl" | "shr" | "sar";
export type BitOp = "bsf" | "bsr" | "lzcnt" | "tzcnt" | "popcnt";

export declare class Assembler {
  /** Current code mode; may be changed between instructions (boot code switches 16 -> 32 -> 64). */
  bits: Bits;
  /** Address of offset 0. */
  readonly origin: number;
  constructor(opts?: { bits?: Bits; origin?: number });

  /** Current offset from origin. */
  get offset(): number;
  /** Current absolute address (origin + offset). */
  get here(): number;
  label(name?: string): Label;
  bind(l: Label): void;
  defineAbsolute(l: Label, addr: number): void;

  // ---- data ----
  db(...values: number[]): void;
  dw(value: number): void;
  dd(value: number | Label): void;
  dq(value: number | bigint | Label): void;
  bytes(data: Uint8Array | number[]): void;
  /** Pad with `fill` (default 0x90 nop in code, pass 0 for data) to a multiple of `n`. */
  align(n: number, fill?: number): void;

  // ---- integer ----
  /** r/m, reg | reg, r/m | r/m, imm (imm8 sign-extended form when it fits; imm32 otherwise). */
  alu(op: AluOp, size: Size, dst: RM, src: RM | number): void;
  test(size: Size, dst: RM, src: Reg | number): void;
  /** reg<-reg/mem, mem<-reg, reg<-imm (size 8: imm32 sign-extended if it fits, else movabs), mem<-imm32. */
  mov(size: Size, dst: RM, src: RM | number): void;
  /** mov reg64, imm64 (REX.W B8+r io); a Label means its absolute address. */
  movabs(dst: Reg, imm: number | bigint | Label): void;
  /** movzx/movsx; srcSize 4 with movsx is movsxd. movzx with dstSize 8 from size 1/2 is fine. */
  movzx(dstSize: 2 | 4 | 8, dst: Reg, srcSize: 1 | 2, src: RM): void;
  movsx(dstSize: 2 | 4 | 8, dst: Reg, srcSize: 1 | 2 | 4, src: RM): void;
  lea(size: 2 | 4 | 8, dst: Reg, src: Mem): void;
  /** imul reg, r/m (0F AF /r). */
  imul(size: Size, dst: Reg, src: RM): void;
  /** imul reg, r/m, imm (6B /r ib or 69 /r id). */
  imul3(size: Size, dst: Reg, src: RM, imm: number): void;
  /** F6/F7 group (not, neg, mul, imul one-operand, div, idiv) and FE/FF inc/dec. */
  unary(op: UnaryOp, size: Size, rm: RM): void;
  /** D2/D3 (by cl), D0/D1 (by 1), C0/C1 ib. */
  shift(op: ShiftOp, size: Size, rm: RM, count: "cl" | number): void;
  /** bsf/bsr (0F BC/BD), lzcnt/tzcnt (F3 0F BD/BC), popcnt (F3 0F B8). */
  bitscan(op: BitOp, size: 2 | 4 | 8, dst: Reg, src: RM): void;
  setcc(cc: Cond, dst: RM): void;
  cmovcc(cc: Cond, size: 2 | 4 | 8, dst: Reg, src: RM): void;
  /** cwd/cdq/cqo by size 2/4/8. */
  signExtendAx(size: 2 | 4 | 8): void;
  xchg(size: Size, a: Reg, b: RM): void;
  bswap(size: 4 | 8, r: Reg): void;

  // ---- control ----
  jmp(target: Label | RM): void;
  jcc(cc: Cond, target: Label): void;
  call(target: Label | RM): void;
  ret(): void;
  push(src: Reg | number | Mem): void;
  pop(dst: Reg | Mem): void;
  /** Far jump ptr16:16/ptr16:32 (EA) - only in 16/32-bit mode. */
  jmpFar(selector: number, offset: number | Label): void;
  /** Far jump through memory m16:64 (REX.W FF /5) - only in 64-bit mode. */
  jmpFarMem(m: Mem): void;

  // ---- system ----
  nop(): void;
  int3(): void;
  int(n: number): void;
  ud2(): void;
  hlt(): void;
  cli(): void;
  sti(): void;
  cld(): void;
  pause(): void;
  cpuid(): void;
  rdtsc(): void;
  rdmsr(): void;
  wrmsr(): void;
  mfence(): void;
  lfence(): void;
  sfence(): void;
  iretq(): void;
  /** in al/ax/eax, imm8|dx (size 1/2/4). */
  inPort(size: 1 | 2 | 4, port: number | "dx"): void;
  /** out imm8|dx, al/ax/eax (size 1/2/4). */
  outPort(size: 1 | 2 | 4, port: number | "dx"): void;
  /** mov crN, reg / mov reg, crN (0F 22 / 0F 20), reg is 32-bit outside 64-bit mode. */
  movToCr(cr: 0 | 2 | 3 | 4 | 8, src: Reg): void;
  movFromCr(dst: Reg, cr: 0 | 2 | 3 | 4 | 8): void;
  /** mov sreg, r16 (8E /r); sreg: 0=es 1=cs 2=ss 3=ds 4=fs 5=gs. */
  movToSreg(sreg: number, src: Reg): void;
  lgdt(m: Mem): void;
  lidt(m: Mem): void;
  /** rep movsb / rep stosb / rep movsd(size 4) / rep movsq / rep stosq. */
  repMovs(size: 1 | 4 | 8): void;
  repStos(size: 1 | 4 | 8): void;

  /** Overwrite 4 bytes at `offset` (little-endian, signed or unsigned 32-bit value): used to patch
   *  a frame size into an already emitted `sub rsp, imm32` (emit it with a placeholder that needs imm32). */
  patchI32(offset: number, value: number): void;

  /** Resolve fixups; the bytes of everything emitted. */
  finish(): Uint8Array;
}
