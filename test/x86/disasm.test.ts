/**
 * The listing helper tools/x86/disasm.ts (iced-x86 wrapper): per-instruction addresses, hex bytes,
 * Intel text with the project's formatter options, and undecodable bytes.
 */
import { describe, expect, it } from "vitest";
import { disassemble, listing } from "../../tools/x86/disasm.ts";

describe("disassemble", () => {
  it("splits code into instructions with addresses, bytes and text", () => {
    const code = new Uint8Array([0x55, 0x48, 0x89, 0xe5, 0x8b, 0x45, 0xf8, 0xe8, 0xf4, 0xff, 0xff, 0xff, 0xc3]);
    expect(disassemble(code, 64, 0x1000)).toEqual([
      { address: 0x1000, bytes: "55", text: "push rbp" },
      { address: 0x1001, bytes: "48 89 e5", text: "mov rbp, rsp" },
      { address: 0x1004, bytes: "8b 45 f8", text: "mov eax, dword ptr [rbp-8]" },
      { address: 0x1007, bytes: "e8 f4 ff ff ff", text: "call 0x1000" },
      { address: 0x100c, bytes: "c3", text: "ret" },
    ]);
  });

  it("decodes the same bytes differently per mode", () => {
    const code = new Uint8Array([0x8b, 0x07]);
    expect(disassemble(code, 16, 0)[0].text).toBe("mov ax, word ptr [bx]");
    expect(disassemble(code, 32, 0)[0].text).toBe("mov eax, dword ptr [edi]");
    expect(disassemble(code, 64, 0)[0].text).toBe("mov eax, dword ptr [rdi]");
  });

  it("marks bytes that do not decode", () => {
    const lines = disassemble(new Uint8Array([0x0f, 0xff]), 64, 0);
    expect(lines.map((l) => l.text)).toEqual(["(bad)"]);
    const truncated = disassemble(new Uint8Array([0x90, 0x48]), 64, 0);
    expect(truncated.map((l) => l.text)).toEqual(["nop", "(bad)"]);
  });

  it("formats a listing", () => {
    expect(listing(new Uint8Array([0xf4]), 32, 0x100000)).toBe(`00100000  ${"f4".padEnd(30)}  hlt`);
  });
});
