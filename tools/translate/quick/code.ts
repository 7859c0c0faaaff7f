/**
 * The quick tier's code buffer: x86-64 instructions written as bytes from fixed templates (Intel SDM
 * vol. 2, chapter 2 "Instruction format": legacy prefix, REX, opcode, ModRM, SIB, displacement,
 * immediate), with the three operand shapes the quick tier uses:
 *   frame slot   [rbp + disp8/disp32]   ModRM mod 01/10, r/m 101 (rbp)
 *   memory       [rax + disp32]         ModRM mod 10, r/m 000 (rax)
 *   absolute     [disp32]               ModRM mod 00, r/m 100, SIB 0x25 (no base, no index): a label
 * and the label fields the assembler resolves (`Assembler.placeCode`): calls to other functions and
 * trap stubs (rel32), cells of globals, tables and memory (absolute disp32), table addresses (imm64).
 * Jumps inside a function are patched here (`patchRel32`). Encodings are checked against an
 * independent disassembler in test/translate/quick.test.ts.
 */
import { FIELD_ABS32S, FIELD_ABS64, FIELD_REL32, type Label } from "../../x86/assembler.ts";

/** A pseudo frame displacement: the operand is rax itself (a value the quick tier keeps there);
 *  `frame` and `load` then use the register form. */
export const IN_RAX = 0x7fff0000;
/** A pseudo frame displacement: the operand is xmm0 (a float the quick tier keeps there); SSE
 *  forms through `frame` then use the register form (r/m 0 = xmm0). */
export const IN_XMM0 = 0x7fff0001;
/** Frame displacements from RSP_BASE up are [rsp + (disp - RSP_BASE)] (operand-stack slots of a
 *  frame with many locals: the bottom of the frame is within a disp8 of rsp); below, [rbp + disp]. */
export const RSP_BASE = 0x40000000;

/** Register numbers (ModRM.reg / r/m encoding; 8 and up need REX.R / REX.B). */
export const RAX = 0, RCX = 1, RDX = 2, RSP = 4, RBP = 5, RSI = 6, RDI = 7, R8 = 8, R11 = 11;

export class QuickCode {
  buf = new Uint8Array(1 << 16);
  /** Bytes written. */
  n = 0;
  /** Label fields: offset in `buf`, kind, label, addend. */
  fields = 0;
  fieldAt = new Int32Array(256);
  fieldKind = new Uint8Array(256);
  fieldLabel: Label[] = [];
  fieldAddend = new Int32Array(256);

  reset(): void {
    this.n = 0;
    this.fields = 0;
  }

  /** Room for `k` more bytes (every template is shorter than 32). */
  room(k: number = 32): void {
    if (this.n + k <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.n + k));
    next.set(this.buf.subarray(0, this.n));
    this.buf = next;
  }

  b(x: number): void {
    this.buf[this.n++] = x;
  }
  d(x: number): void {
    const b = this.buf, n = this.n;
    b[n] = x; b[n + 1] = x >> 8; b[n + 2] = x >> 16; b[n + 3] = x >> 24;
    this.n = n + 4;
  }
  /** Overwrite the rel32 at `at` so that it reaches `target` (both offsets in this buffer). */
  patchRel32(at: number, target: number): void {
    const v = target - (at + 4), b = this.buf;
    b[at] = v; b[at + 1] = v >> 8; b[at + 2] = v >> 16; b[at + 3] = v >> 24;
  }

  /** A label field at the current offset (the 4 or 8 bytes are written by the caller). */
  field(kind: number, label: Label, addend: number): void {
    const i = this.fields++;
    if (i === this.fieldAt.length) {
      const at = new Int32Array(i * 2), kd = new Uint8Array(i * 2), ad = new Int32Array(i * 2);
      at.set(this.fieldAt); kd.set(this.fieldKind); ad.set(this.fieldAddend);
      this.fieldAt = at; this.fieldKind = kd; this.fieldAddend = ad;
    }
    this.fieldAt[i] = this.n;
    this.fieldKind[i] = kind;
    this.fieldLabel[i] = label;
    this.fieldAddend[i] = addend;
  }

  /** Legacy prefix (0 = none), REX (W, R from `reg`, B from `rm`), opcode (> 0xff: 0F xx; > 0xffff: 0F 3A xx). */
  private head(prefix: number, w: number, op: number, reg: number, rm: number): void {
    this.room();
    if (prefix) this.b(prefix);
    const rex = (w ? 8 : 0) | ((reg & 8) >> 1) | ((rm & 8) >> 3);
    if (rex) this.b(0x40 | rex);
    if (op > 0xffff) { this.b(0x0f); this.b((op >> 8) & 0xff); this.b(op & 0xff); } // 0F 38 xx / 0F 3A xx
    else if (op > 0xff) { this.b(0x0f); this.b(op & 0xff); } else this.b(op);
  }

  /** `op reg, [rbp + disp]` (or `op [rbp + disp], reg` for store opcodes). */
  frame(prefix: number, w: number, op: number, reg: number, disp: number): void {
    if (disp === IN_RAX || disp === IN_XMM0) { this.regs(prefix, w, op, reg, 0); return; } // rax / xmm0: r/m 0
    if (disp >= RSP_BASE) { // [rsp + d]: r/m 100 with SIB 0x24 (base rsp, no index)
      const d = disp - RSP_BASE;
      this.head(prefix, w, op, reg, RSP);
      if (d < 128) { this.b(0x44 | ((reg & 7) << 3)); this.b(0x24); this.b(d); }
      else { this.b(0x84 | ((reg & 7) << 3)); this.b(0x24); this.d(d); }
      return;
    }
    this.head(prefix, w, op, reg, RBP);
    if (disp >= -128 && disp < 128) { this.b(0x45 | ((reg & 7) << 3)); this.b(disp); }
    else { this.b(0x85 | ((reg & 7) << 3)); this.d(disp); }
  }
  /** `op reg, [rax + disp32]` (or the store direction). */
  memory(prefix: number, w: number, op: number, reg: number, disp: number): void {
    this.head(prefix, w, op, reg, RAX);
    this.b(0x80 | ((reg & 7) << 3));
    this.d(disp);
  }
  /** `op reg, [label + addend]` (absolute disp32). */
  absolute(prefix: number, w: number, op: number, reg: number, label: Label, addend: number = 0): void {
    this.head(prefix, w, op, reg, 0);
    this.b(0x04 | ((reg & 7) << 3));
    this.b(0x25);
    this.field(FIELD_ABS32S, label, addend);
    this.d(0);
  }
  /** `op reg, rm` between registers. */
  regs(prefix: number, w: number, op: number, reg: number, rm: number): void {
    this.head(prefix, w, op, reg, rm);
    this.b(0xc0 | ((reg & 7) << 3) | (rm & 7));
  }

  /** mov r32/r64, [rbp + disp] (8B /r): a 32-bit load zero-extends. */
  load(w: number, r: number, disp: number): void {
    if (disp === IN_RAX && r === RAX) return; // already there (32-bit values zero-extended)
    this.frame(0, w, 0x8b, r, disp);
  }
  /** mov [rbp + disp], r64 (REX.W 89 /r). */
  store(disp: number, r: number): void { this.frame(0, 1, 0x89, r, disp); }
  /** mov qword [rbp + disp] (or [rsp + d]), imm32 sign-extended (REX.W C7 /0 id). */
  storeImm(disp: number, imm: number): void { this.frame(0, 1, 0xc7, 0, disp); this.d(imm); }
  /** mov r32, imm32 (B8+r id; zero-extends into the 64-bit register). */
  movImm32(r: number, v: number): void {
    this.room();
    if (r & 8) this.b(0x41);
    this.b(0xb8 | (r & 7));
    this.d(v);
  }
  /** mov r64, imm64 (REX.W B8+r io), the two halves given. */
  movabs(r: number, lo: number, hi: number): void {
    this.room();
    this.b(0x48 | ((r & 8) >> 3)); this.b(0xb8 | (r & 7)); this.d(lo); this.d(hi);
  }
  /** mov r64, imm64 = label's address (REX.W B8+r io). */
  movabsLabel(r: number, label: Label): void {
    this.room();
    this.b(0x48 | ((r & 8) >> 3)); this.b(0xb8 | (r & 7));
    this.field(FIELD_ABS64, label, 0);
    this.d(0); this.d(0);
  }
  /** call rel32 (E8 cd) to a label. */
  callLabel(label: Label): void {
    this.room();
    this.b(0xe8);
    this.field(FIELD_REL32, label, 0);
    this.d(0);
  }
  /** jcc rel32 (0F 80+cc cd), target patched later: returns the field's offset. */
  jcc(cc: number): number {
    this.room();
    this.b(0x0f); this.b(0x80 | cc);
    const at = this.n;
    this.d(0);
    return at;
  }
  /** jmp rel32 (E9 cd), target patched later: returns the field's offset. */
  jmp(): number {
    this.room();
    this.b(0xe9);
    const at = this.n;
    this.d(0);
    return at;
  }
  /** jmp rel32 back to `target`. */
  jmpTo(target: number): void {
    this.room();
    this.b(0xe9);
    this.d(target - (this.n + 4));
  }
  /** jcc rel32 back to `target`. */
  jccTo(cc: number, target: number): void {
    this.room();
    this.b(0x0f); this.b(0x80 | cc);
    this.d(target - (this.n + 4));
  }
  /** setcc al; movzx eax, al (0F 90+cc /0; 0F B6 /r). */
  setccEax(cc: number): void {
    this.room();
    this.b(0x0f); this.b(0x90 | cc); this.b(0xc0);
    this.b(0x0f); this.b(0xb6); this.b(0xc0);
  }
}

/** Condition codes (the low nibble of Jcc / SETcc / CMOVcc). */
export const CC_O = 0x0, CC_S = 0x8, CC_B = 0x2, CC_AE = 0x3, CC_E = 0x4, CC_NE = 0x5, CC_BE = 0x6, CC_A = 0x7,
  CC_P = 0xa, CC_NP = 0xb, CC_L = 0xc, CC_GE = 0xd, CC_LE = 0xe, CC_G = 0xf;
