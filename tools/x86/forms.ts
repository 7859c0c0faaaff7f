/**
 * x86 instruction forms as data, in Intel-manual notation, plus the parser that turns each form
 * string into an `Encoding` for the one generic emitter in `assembler.ts`.
 *
 * Source of truth: Intel SDM Vol. 2, §3.1.1.1 "Opcode Column in the Instruction Summary Table"
 * and the per-instruction pages named in the comments below (Vol. 2A-2D).
 *
 * Form string grammar (tokens separated by spaces, "+" alone is ignored):
 *   NP             no mandatory prefix (documentation only)
 *   66 / F2 / F3   when they come before the first opcode byte: mandatory prefixes, emitted after
 *                  the operand-size / address-size prefixes and before REX
 *   REX.W          REX.W is part of the opcode (the emitter also sets it for operand size 8)
 *   XX             opcode byte (hex)
 *   XX+r           opcode byte plus the low 3 bits of a register (Intel: +rb/+rw/+rd/+ro, all accepted)
 *   XX+cc          opcode byte plus a 4-bit condition code (Intel writes e.g. "0F 8x")
 *   /r             ModRM with reg = a register operand, r/m = a register or memory operand
 *   /0 .. /7       ModRM with reg = that digit (opcode extension)
 *   ib iw id io    immediate of 1, 2, 4, 8 bytes
 *   iz             immediate of 2 bytes (operand size 16) or 4 bytes (operand size 32/64, sign-extended
 *                  to 64) - the opcode map's "Iz"; Intel's per-page tables split it into iw / id
 *   cz             relative branch offset, rel16 in 16-bit mode else rel32 ("Jz"; Intel: cw / cd)
 *   cp             far pointer: offset (2 bytes in 16-bit mode, 4 otherwise) then 16-bit selector
 *   VEX.L.pp.mm.W  a VEX prefix (SDM Vol. 2 §2.3 "Intel AVX and VEX encoding"; Intel writes e.g.
 *                  "VEX.256.F3.0F.WIG"): L 128 or 256 (vector length), pp the implied 66/F3/F2 or
 *                  none, mm the implied opcode map 0F, 0F38 or 0F3A (not written as opcode bytes),
 *                  W W0, W1 or WIG (ignored: 0). VEX.vvvv is unused (1111b): the forms here have no
 *                  third register operand. Encoded in 64-bit mode only.
 *
 * Operand notation (the `operands` column, used only as the lookup key together with the
 * mnemonic): r/m8 r8 imm8 are byte operands; "r/m", "r", "imm" are 16/32/64-bit by the operand size
 * the caller passes; xmm, xmm/m32, xmm/m64, xmm/m128, ymm, ymm/m256 as in the SDM.
 */

/** One row of an Intel instruction summary table: [mnemonic, operands, opcode form]. */
export type FormRow = readonly [mnemonic: string, operands: string, form: string];

export const FORMS: readonly FormRow[] = [
  // ---- ADD/OR/ADC/SBB/AND/SUB/XOR/CMP (SDM Vol. 2A "ADD" ... ) ----
  ["add", "AL, imm8", "04 ib"], ["add", "rAX, imm", "05 iz"], ["add", "r/m8, imm8", "80 /0 ib"],
  ["add", "r/m, imm", "81 /0 iz"], ["add", "r/m, imm8", "83 /0 ib"], ["add", "r/m8, r8", "00 /r"],
  ["add", "r/m, r", "01 /r"], ["add", "r8, r/m8", "02 /r"], ["add", "r, r/m", "03 /r"],
  ["or", "AL, imm8", "0C ib"], ["or", "rAX, imm", "0D iz"], ["or", "r/m8, imm8", "80 /1 ib"],
  ["or", "r/m, imm", "81 /1 iz"], ["or", "r/m, imm8", "83 /1 ib"], ["or", "r/m8, r8", "08 /r"],
  ["or", "r/m, r", "09 /r"], ["or", "r8, r/m8", "0A /r"], ["or", "r, r/m", "0B /r"],
  ["adc", "AL, imm8", "14 ib"], ["adc", "rAX, imm", "15 iz"], ["adc", "r/m8, imm8", "80 /2 ib"],
  ["adc", "r/m, imm", "81 /2 iz"], ["adc", "r/m, imm8", "83 /2 ib"], ["adc", "r/m8, r8", "10 /r"],
  ["adc", "r/m, r", "11 /r"], ["adc", "r8, r/m8", "12 /r"], ["adc", "r, r/m", "13 /r"],
  ["sbb", "AL, imm8", "1C ib"], ["sbb", "rAX, imm", "1D iz"], ["sbb", "r/m8, imm8", "80 /3 ib"],
  ["sbb", "r/m, imm", "81 /3 iz"], ["sbb", "r/m, imm8", "83 /3 ib"], ["sbb", "r/m8, r8", "18 /r"],
  ["sbb", "r/m, r", "19 /r"], ["sbb", "r8, r/m8", "1A /r"], ["sbb", "r, r/m", "1B /r"],
  ["and", "AL, imm8", "24 ib"], ["and", "rAX, imm", "25 iz"], ["and", "r/m8, imm8", "80 /4 ib"],
  ["and", "r/m, imm", "81 /4 iz"], ["and", "r/m, imm8", "83 /4 ib"], ["and", "r/m8, r8", "20 /r"],
  ["and", "r/m, r", "21 /r"], ["and", "r8, r/m8", "22 /r"], ["and", "r, r/m", "23 /r"],
  ["sub", "AL, imm8", "2C ib"], ["sub", "rAX, imm", "2D iz"], ["sub", "r/m8, imm8", "80 /5 ib"],
  ["sub", "r/m, imm", "81 /5 iz"], ["sub", "r/m, imm8", "83 /5 ib"], ["sub", "r/m8, r8", "28 /r"],
  ["sub", "r/m, r", "29 /r"], ["sub", "r8, r/m8", "2A /r"], ["sub", "r, r/m", "2B /r"],
  ["xor", "AL, imm8", "34 ib"], ["xor", "rAX, imm", "35 iz"], ["xor", "r/m8, imm8", "80 /6 ib"],
  ["xor", "r/m, imm", "81 /6 iz"], ["xor", "r/m, imm8", "83 /6 ib"], ["xor", "r/m8, r8", "30 /r"],
  ["xor", "r/m, r", "31 /r"], ["xor", "r8, r/m8", "32 /r"], ["xor", "r, r/m", "33 /r"],
  ["cmp", "AL, imm8", "3C ib"], ["cmp", "rAX, imm", "3D iz"], ["cmp", "r/m8, imm8", "80 /7 ib"],
  ["cmp", "r/m, imm", "81 /7 iz"], ["cmp", "r/m, imm8", "83 /7 ib"], ["cmp", "r/m8, r8", "38 /r"],
  ["cmp", "r/m, r", "39 /r"], ["cmp", "r8, r/m8", "3A /r"], ["cmp", "r, r/m", "3B /r"],

  // ---- TEST (Vol. 2B "TEST") ----
  ["test", "AL, imm8", "A8 ib"], ["test", "rAX, imm", "A9 iz"], ["test", "r/m8, imm8", "F6 /0 ib"],
  ["test", "r/m, imm", "F7 /0 iz"], ["test", "r/m8, r8", "84 /r"], ["test", "r/m, r", "85 /r"],

  // ---- MOV (Vol. 2B "MOV") ----
  ["mov", "r/m8, r8", "88 /r"], ["mov", "r/m, r", "89 /r"], ["mov", "r8, r/m8", "8A /r"],
  ["mov", "r, r/m", "8B /r"], ["mov", "r8, imm8", "B0+rb ib"], ["mov", "r, imm", "B8+rd iz"],
  ["mov", "r64, imm64", "REX.W + B8+ro io"], ["mov", "r/m8, imm8", "C6 /0 ib"],
  ["mov", "r/m, imm", "C7 /0 iz"],
  ["mov", "Sreg, r/m16", "8E /r"],
  ["mov", "r64, CR", "0F 20 /r"], ["mov", "CR, r64", "0F 22 /r"],

  // ---- MOVZX / MOVSX / MOVSXD (Vol. 2B) ----
  ["movzx", "r, r/m8", "0F B6 /r"], ["movzx", "r, r/m16", "0F B7 /r"],
  ["movsx", "r, r/m8", "0F BE /r"], ["movsx", "r, r/m16", "0F BF /r"],
  ["movsxd", "r64, r/m32", "REX.W + 63 /r"],

  // ---- LEA, IMUL, F6/F7 group, FE/FF inc/dec (Vol. 2A "LEA", "IMUL", "NOT", "NEG", "MUL", "DIV",
  //      "IDIV", "INC", "DEC") ----
  ["lea", "r, m", "8D /r"],
  ["imul", "r, r/m", "0F AF /r"], ["imul", "r, r/m, imm8", "6B /r ib"], ["imul", "r, r/m, imm", "69 /r iz"],
  ["not", "r/m8", "F6 /2"], ["not", "r/m", "F7 /2"], ["neg", "r/m8", "F6 /3"], ["neg", "r/m", "F7 /3"],
  ["mul", "r/m8", "F6 /4"], ["mul", "r/m", "F7 /4"], ["imul1", "r/m8", "F6 /5"], ["imul1", "r/m", "F7 /5"],
  ["div", "r/m8", "F6 /6"], ["div", "r/m", "F7 /6"], ["idiv", "r/m8", "F6 /7"], ["idiv", "r/m", "F7 /7"],
  ["inc", "r/m8", "FE /0"], ["inc", "r/m", "FF /0"], ["dec", "r/m8", "FE /1"], ["dec", "r/m", "FF /1"],

  // ---- Shifts and rotates (Vol. 2B "SAL/SAR/SHL/SHR", "RCL/RCR/ROL/ROR") ----
  ["rol", "r/m8, 1", "D0 /0"], ["rol", "r/m8, CL", "D2 /0"], ["rol", "r/m8, imm8", "C0 /0 ib"],
  ["rol", "r/m, 1", "D1 /0"], ["rol", "r/m, CL", "D3 /0"], ["rol", "r/m, imm8", "C1 /0 ib"],
  ["ror", "r/m8, 1", "D0 /1"], ["ror", "r/m8, CL", "D2 /1"], ["ror", "r/m8, imm8", "C0 /1 ib"],
  ["ror", "r/m, 1", "D1 /1"], ["ror", "r/m, CL", "D3 /1"], ["ror", "r/m, imm8", "C1 /1 ib"],
  ["rcl", "r/m8, 1", "D0 /2"], ["rcl", "r/m8, CL", "D2 /2"], ["rcl", "r/m8, imm8", "C0 /2 ib"],
  ["rcl", "r/m, 1", "D1 /2"], ["rcl", "r/m, CL", "D3 /2"], ["rcl", "r/m, imm8", "C1 /2 ib"],
  ["rcr", "r/m8, 1", "D0 /3"], ["rcr", "r/m8, CL", "D2 /3"], ["rcr", "r/m8, imm8", "C0 /3 ib"],
  ["rcr", "r/m, 1", "D1 /3"], ["rcr", "r/m, CL", "D3 /3"], ["rcr", "r/m, imm8", "C1 /3 ib"],
  ["shl", "r/m8, 1", "D0 /4"], ["shl", "r/m8, CL", "D2 /4"], ["shl", "r/m8, imm8", "C0 /4 ib"],
  ["shl", "r/m, 1", "D1 /4"], ["shl", "r/m, CL", "D3 /4"], ["shl", "r/m, imm8", "C1 /4 ib"],
  ["shr", "r/m8, 1", "D0 /5"], ["shr", "r/m8, CL", "D2 /5"], ["shr", "r/m8, imm8", "C0 /5 ib"],
  ["shr", "r/m, 1", "D1 /5"], ["shr", "r/m, CL", "D3 /5"], ["shr", "r/m, imm8", "C1 /5 ib"],
  ["sar", "r/m8, 1", "D0 /7"], ["sar", "r/m8, CL", "D2 /7"], ["sar", "r/m8, imm8", "C0 /7 ib"],
  ["sar", "r/m, 1", "D1 /7"], ["sar", "r/m, CL", "D3 /7"], ["sar", "r/m, imm8", "C1 /7 ib"],

  // ---- Bit scans and counts (Vol. 2A "BSF", "BSR", "LZCNT"; Vol. 2B "POPCNT"; Vol. 2D "TZCNT") ----
  ["bsf", "r, r/m", "0F BC /r"], ["bsr", "r, r/m", "0F BD /r"], ["lzcnt", "r, r/m", "F3 0F BD /r"],
  ["tzcnt", "r, r/m", "F3 0F BC /r"], ["popcnt", "r, r/m", "F3 0F B8 /r"],

  // ---- SETcc, CMOVcc, CWD/CDQ/CQO, XCHG, BSWAP (Vol. 2A/2B) ----
  ["setcc", "r/m8", "0F 90+cc /0"], ["cmovcc", "r, r/m", "0F 40+cc /r"],
  ["cwd", "", "99"],
  ["xchg", "r/m8, r8", "86 /r"], ["xchg", "r/m, r", "87 /r"],
  ["bswap", "r", "0F C8+rd"],
  // ---- BT/BTS/BTR with an immediate bit offset (Vol. 2A "BT", "BTS", "BTR": 0F BA /4 /5 /6 ib;
  //      the offset is taken modulo the operand size, so only bits of the addressed operand) ----
  ["bt", "r/m, imm8", "0F BA /4 ib"], ["bts", "r/m, imm8", "0F BA /5 ib"], ["btr", "r/m, imm8", "0F BA /6 ib"],

  // ---- Control transfer (Vol. 2A "JMP", "Jcc", "CALL"; Vol. 2B "RET", "PUSH", "POP") ----
  ["jmp", "rel", "E9 cz"], ["jmp", "r/m", "FF /4"], ["jmp", "ptr16:z", "EA cp"], ["jmp", "m16:64", "REX.W + FF /5"],
  ["jcc", "rel", "0F 80+cc cz"],
  ["call", "rel", "E8 cz"], ["call", "r/m", "FF /2"],
  ["ret", "", "C3"],
  ["push", "r", "50+rd"], ["push", "imm8", "6A ib"], ["push", "imm", "68 iz"], ["push", "r/m", "FF /6"],
  ["pop", "r", "58+rd"], ["pop", "r/m", "8F /0"],

  // ---- System and miscellaneous (Vol. 2A-2D, one page each) ----
  ["nop", "", "90"], ["int3", "", "CC"], ["int", "imm8", "CD ib"], ["ud2", "", "0F 0B"],
  ["hlt", "", "F4"], ["cli", "", "FA"], ["sti", "", "FB"], ["cld", "", "FC"], ["pause", "", "F3 90"],
  ["cpuid", "", "0F A2"], ["rdtsc", "", "0F 31"], ["rdmsr", "", "0F 32"], ["wrmsr", "", "0F 30"],
  ["mfence", "", "NP 0F AE F0"], ["lfence", "", "NP 0F AE E8"], ["sfence", "", "NP 0F AE F8"],
  ["iretq", "", "REX.W + CF"],
  ["in", "AL, imm8", "E4 ib"], ["in", "eAX, imm8", "E5 ib"], ["in", "AL, DX", "EC"], ["in", "eAX, DX", "ED"],
  ["out", "imm8, AL", "E6 ib"], ["out", "imm8, eAX", "E7 ib"], ["out", "DX, AL", "EE"], ["out", "DX, eAX", "EF"],
  ["lgdt", "m", "0F 01 /2"], ["lidt", "m", "0F 01 /3"],
  ["ltr", "r/m16", "0F 00 /3"], // load task register (SDM Vol. 2A "LTR"): selector of a TSS descriptor
  ["rep movsb", "", "F3 A4"], ["rep movs", "", "F3 A5"], ["rep stosb", "", "F3 AA"], ["rep stos", "", "F3 AB"],

  // ---- SSE / SSE2 / SSE4.1 scalar floating point, 128-bit moves (Vol. 2A-2B, one page each) ----
  ["movd", "xmm, r/m", "66 0F 6E /r"], ["movd", "r/m, xmm", "66 0F 7E /r"],
  ["movss", "xmm, xmm/m32", "F3 0F 10 /r"], ["movss", "xmm/m32, xmm", "F3 0F 11 /r"],
  ["movsd", "xmm, xmm/m64", "F2 0F 10 /r"], ["movsd", "xmm/m64, xmm", "F2 0F 11 /r"],
  ["addss", "xmm, xmm/m32", "F3 0F 58 /r"], ["addsd", "xmm, xmm/m64", "F2 0F 58 /r"],
  ["subss", "xmm, xmm/m32", "F3 0F 5C /r"], ["subsd", "xmm, xmm/m64", "F2 0F 5C /r"],
  ["mulss", "xmm, xmm/m32", "F3 0F 59 /r"], ["mulsd", "xmm, xmm/m64", "F2 0F 59 /r"],
  ["divss", "xmm, xmm/m32", "F3 0F 5E /r"], ["divsd", "xmm, xmm/m64", "F2 0F 5E /r"],
  ["sqrtss", "xmm, xmm/m32", "F3 0F 51 /r"], ["sqrtsd", "xmm, xmm/m64", "F2 0F 51 /r"],
  ["minss", "xmm, xmm/m32", "F3 0F 5D /r"], ["minsd", "xmm, xmm/m64", "F2 0F 5D /r"],
  ["maxss", "xmm, xmm/m32", "F3 0F 5F /r"], ["maxsd", "xmm, xmm/m64", "F2 0F 5F /r"],
  ["ucomiss", "xmm, xmm/m32", "NP 0F 2E /r"], ["ucomisd", "xmm, xmm/m64", "66 0F 2E /r"],
  ["cvtss2sd", "xmm, xmm/m32", "F3 0F 5A /r"], ["cvtsd2ss", "xmm, xmm/m64", "F2 0F 5A /r"],
  ["andps", "xmm, xmm/m128", "NP 0F 54 /r"], ["andpd", "xmm, xmm/m128", "66 0F 54 /r"],
  ["andnps", "xmm, xmm/m128", "NP 0F 55 /r"], ["andnpd", "xmm, xmm/m128", "66 0F 55 /r"],
  ["orps", "xmm, xmm/m128", "NP 0F 56 /r"], ["orpd", "xmm, xmm/m128", "66 0F 56 /r"],
  ["xorps", "xmm, xmm/m128", "NP 0F 57 /r"], ["xorpd", "xmm, xmm/m128", "66 0F 57 /r"],
  ["movaps", "xmm, xmm/m128", "NP 0F 28 /r"], ["movapd", "xmm, xmm/m128", "66 0F 28 /r"],
  ["movaps", "xmm/m128, xmm", "NP 0F 29 /r"], ["movapd", "xmm/m128, xmm", "66 0F 29 /r"],
  ["movups", "xmm, xmm/m128", "NP 0F 10 /r"], ["movups", "xmm/m128, xmm", "NP 0F 11 /r"],
  ["punpcklqdq", "xmm, xmm/m128", "66 0F 6C /r"],
  ["cvtsi2ss", "xmm, r/m", "F3 0F 2A /r"], ["cvtsi2sd", "xmm, r/m", "F2 0F 2A /r"],
  ["cvttss2si", "r, xmm/m32", "F3 0F 2C /r"], ["cvttsd2si", "r, xmm/m64", "F2 0F 2C /r"],
  ["roundss", "xmm, xmm/m32, imm8", "66 0F 3A 0A /r ib"], ["roundsd", "xmm, xmm/m64, imm8", "66 0F 3A 0B /r ib"],

  // ---- AVX moves for the bulk-memory routines (Vol. 2B "MOVDQA", "MOVDQU", Vol. 2C "VZEROUPPER",
  // "XGETBV" for the probe that enables them) ----
  ["vmovdqu", "ymm, ymm/m256", "VEX.256.F3.0F.WIG 6F /r"], ["vmovdqu", "ymm/m256, ymm", "VEX.256.F3.0F.WIG 7F /r"],
  ["vmovdqa", "ymm/m256, ymm", "VEX.256.66.0F.WIG 7F /r"], ["vzeroupper", "", "VEX.128.0F.WIG 77"],
  ["xgetbv", "", "NP 0F 01 D0"],
];

/** A VEX prefix's fields (SDM Vol. 2 §2.3.5): vector length, implied prefix, opcode map, W. */
export interface Vex {
  /** 0: 128-bit, 1: 256-bit. */
  readonly L: 0 | 1;
  /** 0: none, 1: 66, 2: F3, 3: F2. */
  readonly pp: 0 | 1 | 2 | 3;
  /** 1: 0F, 2: 0F38, 3: 0F3A. */
  readonly map: 1 | 2 | 3;
  readonly W: 0 | 1;
}

export type ImmToken = "ib" | "iw" | "id" | "io" | "iz";

/** A form string parsed into the fields the generic emitter needs. */
export interface Encoding {
  readonly mnemonic: string;
  readonly operands: string;
  readonly form: string;
  /** Mandatory prefixes (66/F2/F3), emitted after 0x66/0x67 and before REX. */
  readonly prefixes: readonly number[];
  /** REX.W is part of the opcode. */
  readonly rexW: boolean;
  /** Opcode bytes; `plus` applies to the last one. */
  readonly opcode: readonly number[];
  readonly plus: "r" | "cc" | null;
  /** "/r": reg field from a register operand; 0..7: "/digit"; null: no ModRM. */
  readonly modrm: "r" | number | null;
  readonly imms: readonly ImmToken[];
  readonly rel: boolean;
  readonly farPointer: boolean;
  /** A VEX-encoded form: its prefix fields (it then has no legacy prefixes and no REX). */
  readonly vex: Vex | null;
}

const PREFIX_BYTES = new Set([0x66, 0xf2, 0xf3]);

/** Parse one Intel-notation form string (grammar in the header comment). */
export function parseForm(mnemonic: string, operands: string, form: string): Encoding {
  const tokens = form.split(/\s+/).filter((t) => t !== "" && t !== "+" && t !== "NP");
  const prefixes: number[] = [];
  const opcode: number[] = [];
  const imms: ImmToken[] = [];
  let rexW = false;
  let plus: "r" | "cc" | null = null;
  let modrm: "r" | number | null = null;
  let rel = false;
  let farPointer = false;
  let vex: Vex | null = null;
  const fail = (why: string): never => {
    throw new Error(`forms: bad form "${form}" for ${mnemonic} ${operands}: ${why}`);
  };
  tokens.forEach((t, i) => {
    let m: RegExpMatchArray | null;
    if ((m = /^VEX\.(128|256)\.(?:(66|F3|F2)\.)?(0F|0F38|0F3A)\.(W0|W1|WIG)$/.exec(t))) {
      if (i !== 0) fail("VEX must come first");
      vex = {
        L: m[1] === "256" ? 1 : 0, pp: m[2] === "66" ? 1 : m[2] === "F3" ? 2 : m[2] === "F2" ? 3 : 0,
        map: m[3] === "0F" ? 1 : m[3] === "0F38" ? 2 : 3, W: m[4] === "W1" ? 1 : 0,
      };
    } else if (t === "REX.W") {
      if (opcode.length > 0) fail("REX.W after opcode");
      rexW = true;
    } else if ((m = /^([0-9A-F]{2})(?:\+(r[bwdo]?|cc))?$/.exec(t))) {
      const byte = parseInt(m[1], 16);
      if (plus !== null || modrm !== null || imms.length > 0) fail("opcode byte after operand token");
      const hasMoreOpcode = tokens.slice(i + 1).some((u) => /^[0-9A-F]{2}/.test(u));
      if (opcode.length === 0 && !rexW && vex === null && m[2] === undefined && PREFIX_BYTES.has(byte) && hasMoreOpcode) {
        prefixes.push(byte);
      } else {
        opcode.push(byte);
        if (m[2] !== undefined) plus = m[2] === "cc" ? "cc" : "r";
      }
    } else if (t === "/r") {
      modrm = "r";
    } else if ((m = /^\/([0-7])$/.exec(t))) {
      modrm = Number(m[1]);
    } else if (t === "ib" || t === "iw" || t === "id" || t === "io" || t === "iz") {
      imms.push(t);
    } else if (t === "cz") {
      rel = true;
    } else if (t === "cp") {
      farPointer = true;
    } else {
      fail(`unknown token "${t}"`);
    }
  });
  if (opcode.length === 0) fail("no opcode byte");
  if (vex !== null && (opcode.length !== 1 || rexW || plus !== null)) fail("a VEX form has one opcode byte, no REX.W and no +r/+cc");
  return { mnemonic, operands, form, prefixes, rexW, opcode, plus, modrm, imms, rel, farPointer, vex };
}

const TABLE = new Map<string, Encoding>();
for (const [mnemonic, operands, form] of FORMS) {
  const key = `${mnemonic} ${operands}`;
  if (TABLE.has(key)) throw new Error(`forms: duplicate form ${key}`);
  TABLE.set(key, parseForm(mnemonic, operands, form));
}

/** The encoding of `mnemonic` with the given operand column, e.g. `lookupForm("add", "r/m, imm8")`. */
export function lookupForm(mnemonic: string, operands: string): Encoding {
  const e = TABLE.get(`${mnemonic} ${operands}`);
  if (e === undefined) throw new Error(`x86: no form "${mnemonic} ${operands}"`);
  return e;
}

/** All parsed forms (for tests that check every row is exercised). */
export function allForms(): Encoding[] {
  return [...TABLE.values()];
}
