/**
 * Labels, fixups, data directives and error reporting of the x86 encoder (tools/x86/assembler.ts,
 * header "Labels" and "finish()"): forward/backward rel32 and rel16 branches, abs32/abs64 data,
 * label displacements, movabs and far-jump pointers, and the errors for unbound labels, values that
 * do not fit, and operands a mode cannot encode.
 */
import { describe, expect, it } from "vitest";
import { Assembler, Label, R, abs, isReg, mem, reg, type Mem } from "../../tools/x86/assembler.ts";
import { disassemble, hexBytes } from "../../tools/x86/disasm.ts";

const texts = (a: Assembler, bits: 16 | 32 | 64 = 64): string[] =>
  disassemble(a.finish(), bits, a.origin).map((l) => l.text);

describe("branches to labels", () => {
  it("resolves backward and forward rel32 branches in 64-bit mode", () => {
    const a = new Assembler({ bits: 64, origin: 0x100000 });
    const top = a.label("top");
    const done = a.label("done");
    a.bind(top); // 0x100000
    a.alu("sub", 4, R.rcx, 1); // 3 bytes
    a.jcc("e", done); // 0x100003, 6 bytes
    a.jmp(top); // 0x100009, 5 bytes: rel = 0x100000 - 0x10000e = -14
    a.bind(done); // 0x10000e
    a.call(top); // rel = 0x100000 - 0x100013 = -19
    a.ret();
    const out = a.finish();
    expect(hexBytes(out)).toBe("83 e9 01 0f 84 05 00 00 00 e9 f2 ff ff ff e8 ed ff ff ff c3");
    expect(texts(a)).toEqual(["sub ecx, 1", "je 0x10000e", "jmp 0x100000", "call 0x100000", "ret"]);
    expect(done.address).toBe(0x10000e);
  });

  it("uses rel32 even for a branch to the next instruction (size never depends on labels)", () => {
    const a = new Assembler({ bits: 32 });
    const next = a.label();
    a.jmp(next);
    a.bind(next);
    expect(hexBytes(a.finish())).toBe("e9 00 00 00 00");
  });

  it("uses rel16 in 16-bit mode", () => {
    const a = new Assembler({ bits: 16, origin: 0x7c00 });
    const loop = a.label("loop");
    const out = a.label("out");
    a.bind(loop);
    a.jcc("b", out); // 0f 82 rel16 = 10 - 4
    a.jmp(loop); // e9 rel16 = 0 - 7
    a.call(out); // e8 rel16
    a.bind(out);
    a.hlt();
    expect(hexBytes(a.finish())).toBe("0f 82 06 00 e9 f9 ff e8 00 00 f4");
    expect(texts(a, 16)).toEqual(["jb 0x7c0a", "jmp 0x7c00", "call 0x7c0a", "hlt"]);
  });

  it("lets EIP wrap in 32-bit mode (any target is reachable)", () => {
    const a = new Assembler({ bits: 32, origin: 0x10 });
    const top = a.label("top");
    a.jmp(top);
    a.defineAbsolute(top, 0xfffffff0);
    expect(hexBytes(a.finish())).toBe("e9 db ff ff ff"); // 0xfffffff0 - 0x15 mod 2^32
    expect(texts(a, 32)).toEqual(["jmp 0xfffffff0"]);
  });

  it("rejects a 64-bit rel32 beyond +-2 GiB", () => {
    const a = new Assembler({ bits: 64, origin: 0 });
    const far = a.label("far");
    a.call(far);
    a.defineAbsolute(far, 0x80000005);
    expect(() => a.finish()).toThrow(/label "far".*rel32/);
  });

  it("branches to a label defined at an absolute address (another assembler's code)", () => {
    const a = new Assembler({ bits: 64, origin: 0x200000 });
    const ext = a.label("external");
    a.call(ext);
    a.defineAbsolute(ext, 0x100000);
    expect(texts(a)).toEqual(["call 0x100000"]);
  });

  it("rejects a rel16 target that is out of range", () => {
    const a = new Assembler({ bits: 16 });
    const far = a.label("far");
    a.jmp(far);
    a.defineAbsolute(far, 0x20000);
    expect(() => a.finish()).toThrow(/label "far".*rel16/);
  });
});

describe("absolute fixups", () => {
  it("dd/dq of labels, abs(label) displacements and movabs(label)", () => {
    const a = new Assembler({ bits: 64, origin: 0x100000 });
    const data = a.label("data");
    const limit = a.label("stackLimit");
    a.mov(8, R.rax, abs(data, 8)); // [data+8] absolute, SIB no-base form
    a.alu("cmp", 8, R.rsp, abs(limit));
    const viaRbx: Mem = { kind: "mem", base: R.rbx, index: null, scale: 1, disp: data, addend: 0 };
    a.mov(4, viaRbx, 7); // base + label displacement: disp32 fixup
    a.movabs(R.r11, data);
    a.align(8, 0);
    a.bind(data);
    a.dd(data);
    a.dq(limit);
    a.defineAbsolute(limit, 0x12345678);
    const out = a.finish();
    const at = data.address! - a.origin;
    expect(hexBytes(out.subarray(at))).toBe("28 00 10 00 78 56 34 12 00 00 00 00");
    expect(texts(a).slice(0, 4)).toEqual([
      "mov rax, qword ptr [0x100030]",
      "cmp rsp, qword ptr [0x12345678]",
      "mov dword ptr [rbx+0x100028], 7",
      "mov r11, 0x100028",
    ]);
    expect(at).toBe(8 + 8 + 10 + 10 + 4); // the four instructions, then align 8
  });

  it("patchI32 overwrites an emitted imm32", () => {
    const a = new Assembler({ bits: 64 });
    a.alu("sub", 8, R.rsp, 0x7fff0000); // forces the imm32 form
    const at = a.offset - 4;
    a.patchI32(at, 0x40);
    expect(texts(a)).toEqual(["sub rsp, 0x40"]);
    expect(() => a.patchI32(a.offset - 2, 0)).toThrow(/outside/);
  });

  it("far jump to a label: ptr16:32 in 32-bit mode, ptr16:16 in 16-bit mode", () => {
    const a = new Assembler({ bits: 32, origin: 0x100000 });
    const entry = a.label("entry64");
    a.jmpFar(0x08, entry);
    a.bind(entry);
    expect(hexBytes(a.finish())).toBe("ea 07 00 10 00 08 00");

    const b = new Assembler({ bits: 16, origin: 0x7c00 });
    const pm = b.label("pm");
    b.jmpFar(0x08, pm);
    b.jmpFarDword(0x10, pm);
    b.bind(pm);
    expect(hexBytes(b.finish())).toBe("ea 0d 7c 08 00 66 ea 0d 7c 00 00 10 00");

    const c = new Assembler({ bits: 16 });
    const high = c.label("high");
    c.jmpFar(0x08, high);
    c.defineAbsolute(high, 0x100000);
    expect(() => c.finish()).toThrow(/label "high".*abs16/);
  });

  it("rejects a label address that does not fit a sign-extended disp32 in 64-bit mode", () => {
    const a = new Assembler({ bits: 64 });
    const hi = a.label("high");
    a.mov(8, R.rax, abs(hi));
    a.defineAbsolute(hi, 0x80000000);
    expect(() => a.finish()).toThrow(/label "high".*abs32s/);
    // The same address is fine as a 32-bit-mode displacement.
    const b = new Assembler({ bits: 32 });
    const hi2 = b.label("high");
    b.mov(4, R.rax, abs(hi2));
    b.defineAbsolute(hi2, 0x80000000);
    expect(texts(b, 32)).toEqual(["mov eax, dword ptr [0x80000000]"]);
  });
});

describe("label errors", () => {
  it("finish() names every unbound label", () => {
    const a = new Assembler({ bits: 64 });
    a.jmp(a.label("nowhere"));
    a.dq(a.label("missingData"));
    a.jmp(a.label("nowhere") /* a different label object with the same name */);
    expect(() => a.finish()).toThrow(/unbound labels: "nowhere", "missingData"/);
  });

  it("rejects binding a label twice", () => {
    const a = new Assembler();
    const l = a.label("twice");
    a.bind(l);
    expect(() => a.bind(l)).toThrow(/"twice" is bound twice/);
    expect(() => a.defineAbsolute(l, 5)).toThrow(/bound twice/);
  });

  it("labels get distinct default names", () => {
    const a = new Assembler();
    expect(a.label().name).not.toBe(a.label().name);
    expect(new Label("x").address).toBeUndefined();
  });
});

describe("data directives and position", () => {
  it("db/dw/dd/dq/bytes/align with origin, offset and here", () => {
    const a = new Assembler({ bits: 16, origin: 0x7c00 });
    a.db(1, 0xff, -1);
    a.dw(0xaa55);
    a.dd(-2);
    a.dq(0x1122334455667788n);
    a.bytes([9, 8]);
    expect(a.offset).toBe(19);
    expect(a.here).toBe(0x7c00 + 19);
    a.align(4);
    expect(a.offset).toBe(20);
    expect(hexBytes(a.finish())).toBe("01 ff ff 55 aa fe ff ff ff 88 77 66 55 44 33 22 11 09 08 90");
  });

  it("alignCode pads with the fewest multi-byte NOPs, each decoding as nop (iced-x86)", () => {
    for (let start = 0; start < 40; start++) {
      const a = new Assembler({ origin: 0x1000 });
      for (let i = 0; i < start; i++) a.db(0xcc);
      a.alignCode(32);
      expect(a.here % 32).toBe(0);
      const pad = a.finish().slice(start);
      expect(pad.length).toBe((32 - (start % 32)) % 32);
      const lines = disassemble(pad, 64, 0);
      expect(lines.every((l) => /^nop\b|^xchg ax, ax$/.test(l.text))).toBe(true); // 66 90 is the 2-byte NOP
      expect(lines.length).toBe(Math.ceil(pad.length / 9)); // at most 9 bytes per NOP
    }
  });

  it("rejects data that does not fit", () => {
    const a = new Assembler();
    expect(() => a.db(256)).toThrow(/byte/);
    expect(() => a.dw(0x10000)).toThrow(/16 bits/);
    expect(() => a.dd(2 ** 32)).toThrow(/32 bits/);
    expect(() => a.dq(2 ** 60)).toThrow(/safe integer/);
    expect(() => a.bytes([300])).toThrow(/not a byte/);
  });
});

describe("register or immediate", () => {
  it("R constants are registers, plain numbers immediates, reg(n) boxes a number", () => {
    const a = new Assembler({ bits: 64 });
    a.mov(4, R.rax, R.rcx);
    a.mov(4, R.rax, 1);
    a.alu("add", 8, R.rdi, 8);
    a.alu("add", 8, R.rdi, R.r8);
    a.alu("add", 8, R.rdi, reg(8));
    a.test(4, R.rax, R.rdx);
    a.test(4, R.rax, 2);
    a.push(R.rbp);
    a.push(5);
    expect(texts(a)).toEqual([
      "mov eax, ecx", "mov eax, 1", "add rdi, 8", "add rdi, r8", "add rdi, r8",
      "test eax, edx", "test eax, 2", "push rbp", "push 5",
    ]);
    expect(reg(3)).toBe(R.rbx);
    expect(isReg(R.r15)).toBe(true);
    expect(isReg(15)).toBe(false);
    expect(R.r12 + 0).toBe(12);
    expect(() => reg(16)).toThrow(/0..15/);
  });

  it("plain numbers are registers where only a register fits", () => {
    const a = new Assembler({ bits: 64 });
    a.mov(8, 3, mem(5, 8));
    a.movzx(4, 1, 1, 6);
    a.pop(7);
    expect(texts(a)).toEqual(["mov rbx, qword ptr [rbp+8]", "movzx ecx, sil", "pop rdi"]);
  });
});

describe("operands a mode cannot encode", () => {
  const cases: [string, 16 | 32 | 64, (a: Assembler) => void, RegExp][] = [
    ["r8 in 32-bit mode", 32, (a) => a.mov(4, R.r8, R.rax), /needs 64-bit mode/],
    ["sil in 32-bit mode", 32, (a) => a.mov(1, R.rsi, 1), /spl\/bpl\/sil\/dil/],
    ["size 8 in 32-bit mode", 32, (a) => a.alu("add", 8, R.rax, 1), /64-bit operand size/],
    ["r12 base in 16-bit mode", 16, (a) => a.mov(2, R.rax, mem(R.r12)), /needs 64-bit mode/],
    ["rsp as index", 64, (a) => a.mov(8, R.rax, mem(R.rax, 0, R.rsp)), /rsp cannot be an index/],
    ["memory to memory", 64, (a) => a.mov(8, mem(R.rax), mem(R.rbx)), /memory to memory/],
    ["imm64 in an alu op", 64, (a) => a.alu("add", 8, R.rax, 0x80000000), /sign-extended imm32/],
    ["imm too wide for size 1", 64, (a) => a.alu("add", 1, R.rax, 256), /8-bit operand/],
    ["disp beyond sign-extended 32 bits", 64, (a) => a.mov(8, R.rax, abs(0x80000000)), /does not fit a sign-extended 32 bits/],
    ["far pointer jump in 64-bit mode", 64, (a) => a.jmpFar(8, 0), /64-bit mode/],
    ["iretq outside 64-bit mode", 32, (a) => a.iretq(), /64-bit operand size/],
    ["xmm8 in 32-bit mode", 32, (a) => a.sse("addsd", 8, 0), /needs 64-bit mode/],
    ["cr8 in 32-bit mode", 32, (a) => a.movToCr(8, R.rax), /needs 64-bit mode/],
    ["port beyond imm8", 64, (a) => a.outPort(1, 0x3f8), /use "dx"/],
    ["movzx to a narrower size", 64, (a) => a.movzx(2, R.rax, 2, R.rcx), /movzx from size 2 to size 2/],
    ["byte imul", 64, (a) => a.imul(1, R.rax, R.rcx), /no byte form/],
    ["lea without memory", 64, (a) => a.lea(8, R.rax, R.rcx as never), /memory operand/],
    ["register 16", 64, (a) => a.mov(8, 16, R.rax), /not 0..15/],
  ];
  for (const [name, bits, f, re] of cases) {
    it(name, () => {
      const a = new Assembler({ bits });
      expect(() => f(a)).toThrow(re);
      expect(a.offset).toBe(0); // nothing half-emitted
    });
  }
});
