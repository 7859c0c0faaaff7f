/**
 * Boot stub tests: byte-level checks of boot/entry.ts and boot/bios.ts, then real boots of a tiny
 * image under QEMU (TCG): PVH ELF on `-M pc` and `-M microvm`, El Torito ISO on `-M pc`, each in an
 * "ok" variant (reaches wasmMain in long mode, returns -> status 0) and a "null" variant
 * (dereferences address 0 -> #PF -> trapEntry with kind 32 + 14 -> status 9).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Decoder, DecoderOptions, Formatter, FormatterSyntax } from "iced-x86";
import { runQemu, which, QEMU_BINARY } from "../../tools/qemu/runner.ts";
import { buildBiosBootFile, BIOS_MAX_FILE_BYTES } from "../../boot/bios.ts";
import { NESTED_TRAP_MESSAGE } from "../../boot/entry.ts";
import {
  BIG_MARKER, IMAGE_BASE, TRAP_STATUS, buildTestImage, testElf, testIso, type TestImage, type Variant,
} from "./fixture.ts";

function disassemble(bytes: Uint8Array, bitness: 16 | 32 | 64, ip: number, count: number): string[] {
  const decoder = new Decoder(bitness, bytes, DecoderOptions.None);
  decoder.ip = BigInt(ip);
  const formatter = new Formatter(FormatterSyntax.Nasm);
  const out: string[] = [];
  while (decoder.canDecode && out.length < count) out.push(formatter.format(decoder.decode()));
  decoder.free();
  formatter.free();
  return out;
}

describe("boot/entry.ts", () => {
  const img = buildTestImage("ok");
  const at = (addr: number) => img.text.subarray(addr - IMAGE_BASE);

  it("starts the PVH entry with rdtsc", () => {
    expect(disassemble(at(img.entry32Pvh), 32, img.entry32Pvh, 1)).toEqual(["rdtsc"]);
  });

  it("refuses a misaligned bss block the linker has already placed", () => {
    expect(() => buildTestImage("ok", { idt: 0x119008 })).toThrow(/idt at 0x119008 is not 4096-byte aligned/);
  });

  it("puts both entries in the text, 16-byte aligned", () => {
    for (const e of [img.entry32Pvh, img.entry32Bios]) {
      expect(e % 16).toBe(0);
      expect(e).toBeGreaterThanOrEqual(IMAGE_BASE);
      expect(e).toBeLessThan(IMAGE_BASE + img.text.length);
    }
  });
});

describe("boot/bios.ts", () => {
  const img = buildTestImage("ok");

  it("starts with rdtsc and a far jump to 0000:xxxx", () => {
    const { bootFile } = testIso(img);
    const lines = disassemble(bootFile, 16, 0x7c00, 2);
    expect(lines[0]).toBe("rdtsc");
    expect(lines[1]).toMatch(/^jmp (far )?0:7C0[0-9A-F]h$/i);
  });

  it("pads the file to whole CD sectors and carries the payload bytes", () => {
    const { bootFile } = testIso(img);
    expect(bootFile.length % 2048).toBe(0);
    const text = Buffer.from(img.text);
    expect(Buffer.from(bootFile).indexOf(text)).toBeGreaterThan(0);
  });

  it("refuses a file larger than 0x78000 bytes with a clear message", () => {
    const big = { segments: [{ addr: IMAGE_BASE, data: new Uint8Array(BIOS_MAX_FILE_BYTES) }], entry32Bios: IMAGE_BASE };
    expect(() => buildBiosBootFile(big)).toThrow(/more than the 0x78000 bytes/);
  });

  it("refuses a segment below 1 MiB", () => {
    const low = { segments: [{ addr: 0x8000, data: new Uint8Array(16) }], entry32Bios: IMAGE_BASE };
    expect(() => buildBiosBootFile(low)).toThrow(/between 1 MiB and 4 GiB/);
  });
});

const haveQemu = which(QEMU_BINARY) !== null;

describe.skipIf(!haveQemu)("boot under QEMU", () => {
  const dir = mkdtempSync(join(tmpdir(), "boot-test-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const images = { ok: buildTestImage("ok"), null: buildTestImage("null"), ud2: buildTestImage("ud2"), nested: buildTestImage("nested") };

  function write(name: string, data: Uint8Array): string {
    const path = join(dir, name);
    writeFileSync(path, data);
    return path;
  }

  async function boot(how: "pvh-pc" | "pvh-microvm" | "iso", variant: Variant) {
    const img = images[variant];
    const result =
      how === "iso"
        ? await runQemu({ cdrom: write(`${variant}.iso`, testIso(img).iso), machine: "pc", timeoutMs: 20_000 })
        : await runQemu({
            kernel: write(`${variant}.elf`, testElf(img)),
            machine: how === "pvh-pc" ? "pc" : "microvm",
            timeoutMs: 20_000,
          });
    const diag = `\n--- serial ---\n${result.serial}\n--- stderr ---\n${result.stderr}\n${result.command.join(" ")}`;
    return { ...result, diag, img };
  }

  function field(serial: string, name: string): bigint {
    const m = new RegExp(`${name}=([0-9a-f]{16})`).exec(serial);
    if (!m) throw new Error(`no ${name}= in serial output:\n${serial}`);
    return BigInt("0x" + m[1]);
  }

  function expectLongModeReport(serial: string, diag: string): void {
    expect(serial, diag).toContain("long mode ok\nsse ok\nhigh ok\n");
    const tsc0 = field(serial, "tsc0");
    const tsc1 = field(serial, "tsc1");
    expect(tsc0, diag).toBeGreaterThan(0n);
    expect(tsc1, diag).toBeGreaterThan(tsc0);
  }

  type Run = { serial: string; status: number | null; diag: string; img: TestImage };
  function expectNullTrap(r: Run): void {
    expectTrap(r, 32 + 14); // #PF (CPU pushes an error code)
  }
  function expectTrap(r: Run, kind: number): void {
    expect(r.serial, r.diag).toContain("long mode ok\n");
    expect(r.serial, r.diag).not.toContain("did not fault");
    const m = /trap ([0-9a-f]{16}) pc ([0-9a-f]{16}) fp ([0-9a-f]{16})/.exec(r.serial);
    expect(m, r.diag).not.toBeNull();
    expect(Number.parseInt(m![1], 16), r.diag).toBe(kind);
    expect(Number.parseInt(m![2], 16), r.diag).toBe(r.img.faultPc);
    expect(Number.parseInt(m![3], 16), r.diag).toBe(r.img.wasmMainFp);
    expect(r.status, r.diag).toBe(TRAP_STATUS);
  }

  for (const how of ["pvh-pc", "pvh-microvm"] as const) {
    it(`PVH (${how}): long mode, boot info, status 0`, async () => {
      const r = await boot(how, "ok");
      expectLongModeReport(r.serial, r.diag);
      expect(field(r.serial, "source"), r.diag).toBe(2n);
      expect(field(r.serial, "startinfo"), r.diag).not.toBe(0n);
      expect(field(r.serial, "startmagic"), r.diag).toBe(0x336ec578n); // "xEn3"
      expect(r.status, r.diag).toBe(0);
    });

    it(`PVH (${how}): null dereference reaches __trap with kind 46`, async () => {
      expectNullTrap(await boot(how, "null"));
    });
  }

  it("PVH (microvm): ud2 reaches __trap with kind 38 (vector without error code)", async () => {
    expectTrap(await boot("pvh-microvm", "ud2"), 32 + 6);
  });

  it("PVH (microvm): an exception inside __trap exits with status 4 and a message", async () => {
    const r = await boot("pvh-microvm", "nested");
    expect(r.serial, r.diag).toMatch(/trap 000000000000002e pc [0-9a-f]{16} fp [0-9a-f]{16}\n/);
    expect(r.serial, r.diag).toContain(NESTED_TRAP_MESSAGE);
    expect(r.status, r.diag).toBe(4);
  });

  it("ISO (pc, SeaBIOS El Torito): long mode, boot info, status 0", async () => {
    const r = await boot("iso", "ok");
    expectLongModeReport(r.serial, r.diag);
    expect(field(r.serial, "source"), r.diag).toBe(1n);
    expect(field(r.serial, "e820"), r.diag).toBeGreaterThan(0n);
    expect(field(r.serial, "startinfo"), r.diag).toBe(0n);
    expect(field(r.serial, "e820type0"), r.diag).toBe(1n); // first entry: usable low RAM
    expect(field(r.serial, "bigtail"), r.diag).toBe(BIG_MARKER); // whole ~464 KiB file loaded and copied
    expect(field(r.serial, "segdata"), r.diag).toBe(0xaaaaaaaaaaaaaaaan); // later segment copied over
    expect(field(r.serial, "segbss"), r.diag).toBe(0n); // memSize tail zeroed by the stub
    expect(r.status, r.diag).toBe(0);
  });

  it("ISO (pc): null dereference reaches __trap with kind 46", async () => {
    expectNullTrap(await boot("iso", "null"));
  });
});
