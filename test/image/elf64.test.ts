/**
 * Tests for tools/image/elf64.ts: headers as binutils' readelf/nm read them, a hand-written
 * x86-64 Linux program run as a process, and PVH boot under QEMU (`-kernel`, microvm and pc).
 */
import { afterAll, describe, expect, it } from "vitest";
import { writeElf64, type ElfImage } from "../../tools/image/elf64.ts";
import { Scratch, qemu, run } from "./run.ts";

const scratch = new Scratch();
afterAll(() => scratch.dispose());

// mov eax, 60 (exit) ; mov edi, 42 ; syscall
const EXIT42 = new Uint8Array([0xb8, 0x3c, 0x00, 0x00, 0x00, 0xbf, 0x2a, 0x00, 0x00, 0x00, 0x0f, 0x05]);

// movzx edi, byte [0x402000] ; add edi, [0x403000] ; mov eax, 60 ; syscall
// exit status = data byte + first bss dword: proves both segments are mapped where the headers say.
const EXIT_DATA = new Uint8Array([
  0x0f, 0xb6, 0x3c, 0x25, 0x00, 0x20, 0x40, 0x00,
  0x03, 0x3c, 0x25, 0x00, 0x30, 0x40, 0x00,
  0xb8, 0x3c, 0x00, 0x00, 0x00,
  0x0f, 0x05,
]);

/** 32-bit protected mode: mov dx,0xf4 ; mov eax,5 ; out dx,eax ; hlt  -> QEMU exit status 11. */
const PVH_OUT5 = new Uint8Array([0x66, 0xba, 0xf4, 0x00, 0xb8, 0x05, 0x00, 0x00, 0x00, 0xef, 0xf4]);

/** 32-bit: mov dx,0xf4 ; mov eax,[0x101000] ; out dx,eax ; hlt  (value comes from the data segment). */
const PVH_OUT_DATA = new Uint8Array([0x66, 0xba, 0xf4, 0x00, 0xa1, 0x00, 0x10, 0x10, 0x00, 0xef, 0xf4]);

function linuxImage(): ElfImage {
  return {
    entry: 0x401000,
    segments: [
      { vaddr: 0x402000, data: new Uint8Array([40]), memSize: 0x2000, flags: "rw" }, // unsorted on purpose
      { vaddr: 0x401000, data: EXIT_DATA, flags: "rx" },
      { vaddr: 0x405000, data: new TextEncoder().encode("hello\n"), flags: "r" },
    ],
    symbols: [
      { name: "_start", addr: 0x401000, size: EXIT_DATA.length, kind: "func" },
      { name: "counter", addr: 0x402000, size: 1, kind: "object" },
      { name: "zeroed", addr: 0x403000, size: 4, kind: "object" },
      { name: "greeting", addr: 0x405000, size: 6, kind: "object" },
    ],
  };
}

interface Phdr { type: string; offset: number; vaddr: number; paddr: number; filesz: number; memsz: number; flags: string; align: number }

function programHeaders(path: string): Phdr[] {
  const r = run("readelf", ["-l", "-W", path]);
  expect(r.status, r.stderr).toBe(0);
  const out: Phdr[] = [];
  const re = /^\s+(LOAD|NOTE|GNU_STACK)\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+([RWE ]+?)\s+(0x[0-9a-f]+)$/gm;
  for (const m of r.stdout.matchAll(re)) {
    out.push({ type: m[1], offset: +m[2], vaddr: +m[3], paddr: +m[4], filesz: +m[5], memsz: +m[6], flags: m[7].replace(/\s/g, ""), align: +m[8] });
  }
  return out;
}

function header(path: string): Record<string, string> {
  const r = run("readelf", ["-h", path]);
  expect(r.status, r.stderr).toBe(0);
  return Object.fromEntries([...r.stdout.matchAll(/^\s+([^:]+):\s+(.*)$/gm)].map((m) => [m[1].trim(), m[2].trim()]));
}

describe("writeElf64 as read by binutils", () => {
  const bytes = writeElf64(linuxImage());
  const path = scratch.file("linux.elf", bytes, 0o755);

  it("has an ELF64 x86-64 ET_EXEC header with the entry point", () => {
    const h = header(path);
    expect(h["Class"]).toBe("ELF64");
    expect(h["Data"]).toMatch(/little endian/);
    expect(h["Type"]).toMatch(/^EXEC/);
    expect(h["Machine"]).toBe("Advanced Micro Devices X86-64");
    expect(h["Entry point address"]).toBe("0x401000");
  });

  it("has one PT_LOAD per segment, sorted, with offsets congruent to vaddr mod 4096", () => {
    const ph = programHeaders(path);
    const loads = ph.filter((p) => p.type === "LOAD");
    expect(loads.map((p) => [p.vaddr, p.paddr, p.filesz, p.memsz, p.flags])).toEqual([
      [0x401000, 0x401000, EXIT_DATA.length, EXIT_DATA.length, "RE"],
      [0x402000, 0x402000, 1, 0x2000, "RW"],
      [0x405000, 0x405000, 6, 6, "R"],
    ]);
    for (const p of loads) {
      expect(p.align).toBe(0x1000);
      expect(p.offset % 0x1000).toBe(p.vaddr % 0x1000);
    }
    // The file bytes at p_offset are the segment's data.
    expect([...bytes.subarray(loads[0].offset, loads[0].offset + EXIT_DATA.length)]).toEqual([...EXIT_DATA]);
    expect(new TextDecoder().decode(bytes.subarray(loads[2].offset, loads[2].offset + 6))).toBe("hello\n");
    expect(ph.some((p) => p.type === "GNU_STACK" && p.flags === "RW")).toBe(true);
    expect(ph.some((p) => p.type === "NOTE")).toBe(false);
  });

  it("names sections by flags and maps them to the segments", () => {
    const r = run("readelf", ["-S", "-W", path]);
    expect(r.status).toBe(0);
    const secs = [...r.stdout.matchAll(/\]\s+(\.\S+)\s+(\S+)\s+([0-9a-f]{16})\s+[0-9a-f]+\s+([0-9a-f]+)/g)].map((m) => [m[1], m[2], parseInt(m[3], 16), parseInt(m[4], 16)]);
    expect(secs).toEqual([
      [".text", "PROGBITS", 0x401000, EXIT_DATA.length],
      [".data", "PROGBITS", 0x402000, 1],
      [".bss", "NOBITS", 0x402001, 0x1fff],
      [".rodata", "PROGBITS", 0x405000, 6],
      [".symtab", "SYMTAB", 0, 5 * 24],
      [".strtab", "STRTAB", 0, 1 + "_start counter zeroed greeting ".length],
      [".shstrtab", "STRTAB", 0, expect.any(Number)],
    ]);
    expect(r.stderr).toBe("");
  });

  it("has a symbol table that readelf -s and nm read", () => {
    const r = run("readelf", ["-s", "-W", path]);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe("");
    const syms = [...r.stdout.matchAll(/^\s+\d+: ([0-9a-f]{16})\s+(\d+) (\w+)\s+(\w+)\s+\w+\s+(\w+) (\S+)$/gm)].map((m) => [m[6], parseInt(m[1], 16), +m[2], m[3], m[4], m[5]]);
    expect(syms).toEqual([
      ["_start", 0x401000, EXIT_DATA.length, "FUNC", "GLOBAL", "1"],
      ["counter", 0x402000, 1, "OBJECT", "GLOBAL", "2"],
      ["zeroed", 0x403000, 4, "OBJECT", "GLOBAL", "3"],
      ["greeting", 0x405000, 6, "OBJECT", "GLOBAL", "4"],
    ]);
    const nm = run("nm", ["-n", path]);
    expect(nm.stdout.trim().split("\n")).toEqual([
      "0000000000401000 T _start",
      "0000000000402000 D counter",
      "0000000000403000 B zeroed",
      "0000000000405000 R greeting",
    ]);
  });

  it("runs as a Linux process (data and bss mapped where the headers say)", () => {
    const r = run(path, [], 10);
    expect(r.status).toBe(40); // data byte 40 + bss dword 0
  });

  it("runs the minimal exit(42) program, without section headers", () => {
    const p = scratch.file("exit42", writeElf64({ entry: 0x401000, segments: [{ vaddr: 0x401000, data: EXIT42, flags: "rx" }], sections: false }), 0o755);
    expect(run(p, [], 10).status).toBe(42);
    expect(header(p)["Number of section headers"]).toBe("0");
    expect(run("readelf", ["-S", p]).stdout).toMatch(/There are no sections/);
  });

  it("keeps symbols (absolute) when section headers are off", () => {
    const p = scratch.file("nosec-syms", writeElf64({
      entry: 0x401000, sections: false, segments: [{ vaddr: 0x401000, data: EXIT42, flags: "rx" }],
      symbols: [{ name: "_start", addr: 0x401000, size: EXIT42.length, kind: "func" }],
    }), 0o755);
    expect(run(p, [], 10).status).toBe(42);
    const r = run("readelf", ["-S", "-s", "-W", p]);
    expect(r.stderr).toBe("");
    expect([...r.stdout.matchAll(/\]\s+(\.\S+)/g)].map((m) => m[1])).toEqual([".symtab", ".strtab", ".shstrtab"]);
    expect(r.stdout).toMatch(/1: 0000000000401000\s+12 FUNC\s+GLOBAL DEFAULT\s+ABS _start/);
  });

  it("is deterministic", () => {
    expect(Buffer.from(writeElf64(linuxImage())).equals(Buffer.from(bytes))).toBe(true);
  });
});

describe("writeElf64 PVH images", () => {
  it("carries the Xen PHYS32_ENTRY note (type 0x12) in a PT_NOTE", () => {
    // With section headers readelf finds it through .note.Xen, without them through PT_NOTE.
    for (const sections of [true, false]) {
      const p = scratch.file(`note-${sections}.elf`, writeElf64({
        entry: 0x100000, pvhEntry: 0x100004, sections,
        segments: [{ vaddr: 0x100000, data: PVH_OUT5, flags: "rx" }],
      }));
      const r = run("readelf", ["-n", "-W", p]);
      expect(r.status).toBe(0);
      expect(r.stderr).toBe("");
      expect(r.stdout).toMatch(/^\s+Xen\s+0x00000004\s+Unknown note type: \(0x00000012\)\s+description data: 04 00 10 00\s*$/m);
      const note = programHeaders(p).filter((h) => h.type === "NOTE");
      expect(note).toHaveLength(1);
      expect(note[0].filesz).toBe(20); // 12-byte header + "Xen\0" + u32
    }
  });

  it("boots under QEMU microvm (-kernel): 32-bit code at 0x100000 writes 5 to isa-debug-exit", () => {
    const p = scratch.file("pvh.elf", writeElf64({
      entry: 0x100000, pvhEntry: 0x100000,
      segments: [{ vaddr: 0x100000, data: PVH_OUT5, flags: "rx" }],
      symbols: [{ name: "entry32", addr: 0x100000, size: PVH_OUT5.length, kind: "func" }],
    }));
    const r = qemu(["-M", "microvm", "-kernel", p]);
    expect(r.status, r.stderr).toBe((5 << 1) | 1);
  });

  it("boots under QEMU pc, loading each segment at its paddr (not its vaddr)", () => {
    const p = scratch.file("pvh-paddr.elf", writeElf64({
      entry: 0x40100000, pvhEntry: 0x100000,
      segments: [
        { vaddr: 0x40100000, paddr: 0x100000, data: PVH_OUT_DATA, flags: "rx" },
        { vaddr: 0x40101000, paddr: 0x101000, data: new Uint8Array([6, 0, 0, 0]), memSize: 0x1000, flags: "rw" },
      ],
    }));
    const ph = programHeaders(p).filter((h) => h.type === "LOAD");
    expect(ph.map((h) => [h.vaddr, h.paddr])).toEqual([[0x40100000, 0x100000], [0x40101000, 0x101000]]);
    const r = qemu(["-M", "pc", "-kernel", p]);
    expect(r.status, r.stderr).toBe((6 << 1) | 1);
  });

  it("packs segments without page padding when segmentAlign is 16, and still boots (pc)", () => {
    const image: ElfImage = {
      entry: 0x100000, pvhEntry: 0x100000,
      segments: [
        { vaddr: 0x100000, data: PVH_OUT_DATA, memSize: 0x1000, flags: "rx" },
        { vaddr: 0x101000, data: new Uint8Array([6, 0, 0, 0]), memSize: 0x1000, flags: "rw" },
      ],
    };
    const paged = writeElf64(image);
    const packed = writeElf64({ ...image, segmentAlign: 16 });
    expect(packed.length).toBeLessThan(paged.length - 4096);
    const p = scratch.file("pvh-packed.elf", packed);
    const ph = programHeaders(p).filter((h) => h.type === "LOAD");
    for (const h of ph) expect(h.offset % 16).toBe(h.vaddr % 16);
    expect(ph[1].offset).toBeLessThan(0x1000); // no page padding before the second segment
    const r = qemu(["-M", "pc", "-kernel", p]);
    expect(r.status, r.stderr).toBe((6 << 1) | 1);
  });

  it("refuses a segmentAlign that is not a power of two up to 4096", () => {
    for (const segmentAlign of [0, 3, 8192]) {
      expect(() => writeElf64({ entry: 0x100000, segments: [{ vaddr: 0x100000, data: PVH_OUT5, flags: "rx" }], segmentAlign })).toThrow(/segmentAlign/);
    }
  });
});

describe("writeElf64 refuses malformed images", () => {
  const code = { vaddr: 0x401000, data: EXIT42, flags: "rx" as const };
  it("overlapping segments", () => {
    expect(() => writeElf64({ entry: 0x401000, segments: [code, { vaddr: 0x401008, data: new Uint8Array(8), flags: "rw" }] })).toThrow(/overlap/);
    expect(() => writeElf64({ entry: 0x401000, segments: [code, { vaddr: 0x500000, paddr: 0x401004, data: new Uint8Array(8), flags: "rw" }] })).toThrow(/paddr.*overlap/);
  });
  it("memSize below the data length, empty segments, no segments", () => {
    expect(() => writeElf64({ entry: 0x401000, segments: [{ ...code, memSize: 4 }] })).toThrow(/memSize/);
    expect(() => writeElf64({ entry: 0x401000, segments: [code, { vaddr: 0x500000, data: new Uint8Array(0), flags: "r" }] })).toThrow(/empty/);
    expect(() => writeElf64({ entry: 0x401000, segments: [] })).toThrow(/at least one/);
  });
  it("entry points outside executable segments", () => {
    expect(() => writeElf64({ entry: 0x402000, segments: [code] })).toThrow(/entry/);
    expect(() => writeElf64({ entry: 0x401000, segments: [code, { vaddr: 0x402000, data: new Uint8Array(8), flags: "rw" }], pvhEntry: 0x402000 })).toThrow(/pvhEntry/);
    expect(() => writeElf64({ entry: 0x401000, segments: [code], pvhEntry: 0x1_0000_0000 })).toThrow(/4 GiB/);
  });
  it("bad symbols", () => {
    expect(() => writeElf64({ entry: 0x401000, segments: [code], symbols: [{ name: "", addr: 0x401000, size: 1, kind: "func" }] })).toThrow(/symbol name/);
    expect(() => writeElf64({ entry: 0x401000, segments: [code], symbols: [{ name: "x", addr: -1, size: 1, kind: "func" }] })).toThrow(/symbol x/);
  });
});
