/**
 * Tests for tools/image/iso9660.ts: the volume as isoinfo, isovfy and xorriso read it (listing,
 * contents, El Torito catalog), raw field checks (both-byte orders, path tables, checksum, dates),
 * and BIOS boots under QEMU that verify the bytes SeaBIOS loaded at 0x7C00.
 */
import { afterAll, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { writeIso9660, type IsoOptions } from "../../tools/image/iso9660.ts";
import { Scratch, qemu, run, runBytes } from "./run.ts";

const scratch = new Scratch();
afterAll(() => scratch.dispose());

const DATE = new Date(Date.UTC(2024, 2, 14, 15, 9, 26, 530));

/**
 * A boot file of `len` bytes: 16-bit real-mode code at its start, then a per-2048-byte-sector
 * pattern, and 0xA5 as its last byte. The code reads back the last byte (0x7C00 + len - 1) and the
 * middle byte through DS = address >> 4 (so any address below 1 MiB works), and writes 7 to
 * isa-debug-exit if both hold what the file holds, 9 otherwise. QEMU then exits with 15 or 19.
 *
 *   mov ax, seg ; mov ds, ax ; mov al, [off] ; cmp al, expected ; jne fail     (twice)
 *   mov al, 7 ; jmp out ; fail: mov al, 9 ; out: mov dx, 0xf4 ; out dx, al ; hlt
 */
function bootProgram(len: number): Uint8Array {
  const d = new Uint8Array(len);
  for (let i = 0; i < len; i++) d[i] = (((i >>> 11) * 37 + 11) & 0xff) | 1;
  d[len - 1] = 0xa5;
  const check = (offset: number, relToFail: number) => {
    const a = 0x7c00 + offset;
    return [0xb8, (a >> 4) & 0xff, a >> 12, 0x8e, 0xd8, 0xa0, a & 0xf, 0x00, 0x3c, d[offset], 0x75, relToFail];
  };
  const code = [
    ...check(len - 1, 16), // 12 bytes; fail is 16 bytes past its end
    ...check(len >> 1, 4), // 12 bytes; fail is 4 bytes past its end
    0xb0, 0x07, 0xeb, 0x02, // mov al, 7 ; jmp out
    0xb0, 0x09, // fail: mov al, 9
    0xba, 0xf4, 0x00, 0xee, 0xf4, // out: mov dx, 0xf4 ; out dx, al ; hlt
  ];
  d.set(code, 0);
  return d;
}

function random(len: number, seed: number): Uint8Array {
  const d = new Uint8Array(len);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < len; i++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    d[i] = x & 0xff;
  }
  return d;
}

const FILES = [
  { name: "HELLO.ELF", data: random(100_000, 1) },
  { name: "readme.txt", data: new TextEncoder().encode("lower case names are upper-cased\n") },
  { name: "EMPTY", data: new Uint8Array(0) },
  { name: "ONE_SECT.BIN", data: random(2048, 2) },
  { name: "TWO_SECT.BIN", data: random(2049, 3) },
  { name: "BOOT.BIN", data: bootProgram(5000) },
];
const OPTS: IsoOptions = { volumeId: "tsunikernel_1", files: FILES, boot: { file: "BOOT.BIN" }, date: DATE };

/** isoinfo -l: name -> [extent, size]. */
function listing(iso: string): Map<string, [number, number]> {
  const r = run("isoinfo", ["-l", "-i", iso]);
  expect(r.status, r.stderr).toBe(0);
  const m = new Map<string, [number, number]>();
  for (const x of r.stdout.matchAll(/^-\S+\s+\d+\s+\d+\s+\d+\s+(\d+) (\w{3} \d\d \d{4}) \[\s*(\d+) 00\]\s+(\S+)\s*$/gm)) {
    expect(x[2]).toBe("Mar 14 2024");
    m.set(x[4], [+x[3], +x[1]]);
  }
  return m;
}

describe("writeIso9660 as read by isoinfo, isovfy and xorriso", () => {
  const image = writeIso9660(OPTS);
  const iso = scratch.file("test.iso", image);

  it("is whole 2048-byte sectors and verifies clean with isovfy", () => {
    expect(image.length % 2048).toBe(0);
    const r = run("isovfy", [iso]);
    expect(r.stdout + r.stderr).toMatch(/No errors found/);
  });

  it("lists every file (isoinfo -l) with its size, upper-casing names", () => {
    const m = listing(iso);
    expect([...m.keys()]).toEqual(["BOOT.BIN;1", "EMPTY.;1", "HELLO.ELF;1", "ONE_SECT.BIN;1", "README.TXT;1", "TWO_SECT.BIN;1"]);
    for (const f of FILES) {
      const id = f.name.toUpperCase().includes(".") ? f.name.toUpperCase() : f.name + ".";
      expect(m.get(`${id};1`)?.[1]).toBe(f.data.length);
    }
  });

  it("reads back identical contents with isoinfo -x", () => {
    for (const f of FILES) {
      const id = f.name.toUpperCase().includes(".") ? f.name.toUpperCase() : f.name + ".";
      const got = runBytes("isoinfo", ["-i", iso, "-x", `/${id};1`]);
      expect(Buffer.from(got).equals(Buffer.from(f.data)), f.name).toBe(true);
    }
  });

  it("lists and extracts with xorriso", () => {
    const r = run("xorriso", ["-indev", iso, "-find", "/"]);
    expect(r.status, r.stderr).toBe(0);
    const names = [...r.stdout.matchAll(/^'(.*)'$/gm)].map((m) => m[1]);
    expect(names).toEqual(["/", "/BOOT.BIN", "/EMPTY", "/HELLO.ELF", "/ONE_SECT.BIN", "/README.TXT", "/TWO_SECT.BIN"]);
    expect(r.stderr).not.toMatch(/FAILURE|SORRY|WARNING/);
    const out = scratch.path("x");
    const x = run("xorriso", ["-osirrox", "on", "-indev", iso, "-extract", "/", out]);
    expect(x.status, x.stderr).toBe(0);
    for (const f of FILES) {
      const name = f.name.toUpperCase();
      expect(Buffer.from(readFileSync(`${out}/${name}`)).equals(Buffer.from(f.data)), name).toBe(true);
    }
  });

  it("has an El Torito no-emulation default entry pointing at the boot file (isoinfo -d, xorriso)", () => {
    const r = run("isoinfo", ["-d", "-i", iso]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Volume id: TSUNIKERNEL_1\n/);
    expect(r.stdout).toMatch(/Logical block size is: 2048/);
    expect(r.stdout).toMatch(new RegExp(`Volume size is: ${image.length / 2048}\\n`));
    expect(r.stdout).toMatch(/El Torito VD version 1 found, boot catalog is in sector \d+/);
    expect(r.stdout).toMatch(/Arch 0 \(x86\)/);
    expect(r.stdout).toMatch(/Key 55 AA/);
    expect(r.stdout).toMatch(/Bootid 88 \(bootable\)/);
    expect(r.stdout).toMatch(/Boot media 0 \(No Emulation Boot\)/);
    expect(r.stdout).toMatch(/Load segment 7C0\n/);
    expect(r.stdout).toMatch(new RegExp(`Nsect ${Math.ceil(5000 / 512).toString(16).toUpperCase()}\\n`));
    const bootExtent = listing(iso).get("BOOT.BIN;1")![0];
    expect(r.stdout).toMatch(new RegExp(`Bootoff ${bootExtent.toString(16).toUpperCase()} ${bootExtent}\\n`));
    const x = run("xorriso", ["-indev", iso, "-report_el_torito", "plain"]);
    expect(x.stdout).toMatch(/El Torito boot img :\s+1\s+BIOS\s+y\s+none\s+0x07c0\s+0x00\s+10\s+\d+/);
    expect(x.stdout).toMatch(/El Torito img path :\s+1\s+\/BOOT\.BIN/);
  });

  it("writes both-byte-order fields, L/M path tables, the catalog checksum and dates correctly", () => {
    const v = new DataView(image.buffer, image.byteOffset);
    const pvd = 16 * 2048;
    const both32 = (off: number) => {
      expect(v.getUint32(off, true)).toBe(v.getUint32(off + 4, false));
      return v.getUint32(off, true);
    };
    const both16 = (off: number) => {
      expect(v.getUint16(off, true)).toBe(v.getUint16(off + 2, false));
      return v.getUint16(off, true);
    };
    expect(image[pvd]).toBe(1);
    expect(new TextDecoder().decode(image.subarray(pvd + 1, pvd + 6))).toBe("CD001");
    expect(both32(pvd + 80)).toBe(image.length / 2048); // volume space size
    expect(both16(pvd + 120)).toBe(1); // volume set size
    expect(both16(pvd + 124)).toBe(1); // volume sequence number
    expect(both16(pvd + 128)).toBe(2048); // logical block size
    expect(both32(pvd + 132)).toBe(10); // path table size
    const root = pvd + 156;
    const rootExtent = both32(root + 2);
    expect(both32(root + 10)).toBe(2048);
    // L table (little-endian) and M table (big-endian) both name the root's extent.
    const l = v.getUint32(pvd + 140, true) * 2048;
    const m = v.getUint32(pvd + 148, false) * 2048;
    expect([image[l], v.getUint32(l + 2, true), v.getUint16(l + 6, true)]).toEqual([1, rootExtent, 1]);
    expect([image[m], v.getUint32(m + 2, false), v.getUint16(m + 6, false)]).toEqual([1, rootExtent, 1]);
    // Dates: 17-byte volume dates and 7-byte recording dates, in UTC.
    const text = (off: number, n: number) => new TextDecoder().decode(image.subarray(off, off + n));
    expect(text(pvd + 813, 16)).toBe("2024031415092653"); // creation
    expect(text(pvd + 830, 16)).toBe("2024031415092653"); // modification
    expect(text(pvd + 847, 16)).toBe("0000000000000000"); // expiration: none
    expect([...image.subarray(root + 18, root + 25)]).toEqual([124, 3, 14, 15, 9, 26, 0]);
    // Boot record at sector 17 and the catalog's validation entry: 16 words summing to 0.
    const br = 17 * 2048;
    expect(text(br + 1, 5)).toBe("CD001");
    expect(text(br + 7, 23)).toBe("EL TORITO SPECIFICATION");
    const cat = v.getUint32(br + 71, true) * 2048;
    let sum = 0;
    for (let i = 0; i < 32; i += 2) sum += v.getUint16(cat + i, true);
    expect(sum & 0xffff).toBe(0);
    expect([image[cat + 30], image[cat + 31]]).toEqual([0x55, 0xaa]);
    // Terminator follows the boot record.
    expect([image[18 * 2048], text(18 * 2048 + 1, 5)]).toEqual([255, "CD001"]);
  });

  it("is deterministic for a given date", () => {
    expect(Buffer.from(writeIso9660(OPTS)).equals(Buffer.from(image))).toBe(true);
  });

  it("spreads a large root directory over several sectors without splitting records", () => {
    const many = Array.from({ length: 150 }, (_, i) => ({ name: `FILE_NUMBER_${String(i).padStart(3, "0")}.DAT`, data: new TextEncoder().encode(`file ${i}\n`) }));
    const p = scratch.file("many.iso", writeIso9660({ volumeId: "MANY", files: many, date: DATE }));
    expect(run("isovfy", [p]).stdout).toMatch(/No errors found/);
    const m = listing(p);
    expect(m.size).toBe(150);
    expect(runBytes("isoinfo", ["-i", p, "-x", "/FILE_NUMBER_149.DAT;1"])).toEqual(new TextEncoder().encode("file 149\n"));
    const d = run("isoinfo", ["-d", "-i", p]);
    expect(d.stdout).not.toMatch(/El Torito/);
  });
});

describe("writeIso9660 BIOS boot under QEMU (SeaBIOS, El Torito no emulation)", () => {
  const boot = (name: string, bootData: Uint8Array, loadSectors?: number) =>
    scratch.file(name, writeIso9660({ volumeId: "BOOT", files: [{ name: "README.TXT", data: new Uint8Array([1]) }, { name: "BOOT.BIN", data: bootData }], boot: { file: "BOOT.BIN", loadSectors }, date: DATE }));

  it("loads a 5000-byte boot file at 0x7C00 and runs it: the last byte arrived (status 15)", () => {
    const r = qemu(["-cdrom", boot("b5000.iso", bootProgram(5000))]);
    expect(r.status, r.stderr).toBe((7 << 1) | 1);
  });

  it("loads only loadSectors sectors when asked: the last byte is then missing (status 19)", () => {
    const r = qemu(["-cdrom", boot("short.iso", bootProgram(5000), 4)]);
    expect(r.status, r.stderr).toBe((9 << 1) | 1);
  });

  it("loads a 480 KiB boot file (the ABI maximum, ending at 0x7FC00) completely", () => {
    const r = qemu(["-cdrom", boot("b480k.iso", bootProgram(0x78000))]);
    expect(r.status, r.stderr).toBe((7 << 1) | 1);
  });
});

describe("writeIso9660 refuses what it cannot write", () => {
  const f = (name: string, len = 1) => ({ name, data: new Uint8Array(len) });
  it("names outside flat ISO 9660 level 2", () => {
    expect(() => writeIso9660({ volumeId: "V", files: [f("boot/hello.elf")] })).toThrow(/no directories/);
    expect(() => writeIso9660({ volumeId: "V", files: [f("A.B.C")] })).toThrow(/at most one/);
    expect(() => writeIso9660({ volumeId: "V", files: [f("HAS SPACE")] })).toThrow(/A-Z/);
    expect(() => writeIso9660({ volumeId: "V", files: [f(".")] })).toThrow();
    expect(() => writeIso9660({ volumeId: "V", files: [f("A".repeat(31))] })).toThrow(/30/);
    expect(() => writeIso9660({ volumeId: "V", files: [f("a.bin"), f("A.BIN")] })).toThrow(/two files/);
    expect(() => writeIso9660({ volumeId: "x".repeat(33), files: [] })).toThrow(/volume id/);
  });
  it("boot files the BIOS cannot load", () => {
    expect(() => writeIso9660({ volumeId: "V", files: [f("A")], boot: { file: "B" } })).toThrow(/not one of the files/);
    expect(() => writeIso9660({ volumeId: "V", files: [f("A")], boot: { file: "A", loadSectors: 0x10000 } })).toThrow(/0xFFFF/);
    // 0x7C00 + 0x98400 = 0xA0000 fits exactly; one more sector does not.
    expect(() => writeIso9660({ volumeId: "V", files: [f("A", 0x98400)], boot: { file: "A" } })).not.toThrow();
    expect(() => writeIso9660({ volumeId: "V", files: [f("A", 0x98401)], boot: { file: "A" } })).toThrow(/0xA0000/);
    expect(() => writeIso9660({ volumeId: "V", files: [f("A")], boot: { file: "A", loadSegment: 0x9000, loadSectors: 0x81 } })).toThrow(/0xA0000/);
  });
});
