/**
 * The walking skeleton end to end, as a user runs it: `npm run image` builds the ISO and the PVH
 * ELF of apps/hello; both boot under QEMU TCG (SeaBIOS CD boot, PVH on pc and microvm), print the
 * greeting and end by themselves with status 0; an independent ISO reader lists the files.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { runQemu } from "../../tools/qemu/runner.ts";
import { nodeTs } from "../../tools/loader/node.ts";

const GREETING = "Hello from TypeScript on bare metal!";
const out = mkdtempSync(join(tmpdir(), "image-test-"));
const iso = join(out, "hello.iso");
const elf = join(out, "hello.elf");
let buildLog = "";

beforeAll(() => {
  const r = spawnSync(...nodeTs("tools/cli/image.ts", "--app", "apps/hello", "--out", out), { encoding: "utf8", timeout: 240_000 });
  buildLog = r.stdout + r.stderr;
  if (r.status !== 0) throw new Error(`npm run image failed (${r.status}):\n${buildLog}`);
}, 300_000);

describe("npm run image", () => {
  it("prints progress per stage and writes the ISO and the ELF", () => {
    for (const stage of ["asc", "read + validate", "translate + link", "ISO 9660"]) expect(buildLog).toContain(stage);
    expect(statSync(iso).size).toBeGreaterThan(0);
    expect(statSync(elf).size).toBeGreaterThan(0);
  });

  it("stays within the size targets (ELF <= 64 KiB, ISO <= 256 KiB)", () => {
    expect(statSync(elf).size).toBeLessThanOrEqual(64 * 1024);
    expect(statSync(iso).size).toBeLessThanOrEqual(256 * 1024);
  });

  it("the ISO reads back with xorriso and isoinfo: files and El Torito boot entry", () => {
    const listing = execFileSync("xorriso", ["-indev", iso, "-find", "/"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
    expect(listing).toContain("BOOT.BIN");
    expect(listing).toContain("KERNEL.ELF");
    const info = execFileSync("isoinfo", ["-d", "-i", iso], { encoding: "utf8" });
    expect(info).toMatch(/El Torito/i);
    const kernel = execFileSync("isoinfo", ["-i", iso, "-x", "/KERNEL.ELF;1"]);
    expect(Buffer.compare(kernel, readFileSync(elf))).toBe(0);
  });

  it("the ELF has a PVH note and a symbol for every wasm function", () => {
    const notes = execFileSync("readelf", ["-n", elf], { encoding: "utf8" });
    expect(notes).toMatch(/Xen\s+0x0+4\s+Unknown note type: \(0x00000012\)|Xen.*0x00000012/s);
    const syms = execFileSync("readelf", ["-sW", elf], { encoding: "utf8" });
    expect(syms).toContain("apps/hello/main/main");
    expect(syms).toContain("kernel/panic/__trap");
  });
});

describe("booting hello", () => {
  it("from the ISO (SeaBIOS, El Torito, pc)", async () => {
    const r = await runQemu({ cdrom: iso, machine: "pc", timeoutMs: 30_000 });
    expect(r.serial, r.stderr).toContain(GREETING);
    expect(r.serial).toMatch(/boot: BIOS/);
    expect(r.status).toBe(0);
  });

  it("from the ELF via PVH on pc", async () => {
    const r = await runQemu({ kernel: elf, machine: "pc", timeoutMs: 30_000 });
    expect(r.serial, r.stderr).toContain(GREETING);
    expect(r.serial).toMatch(/boot: PVH/);
    // The boot report's free RAM comes from the page allocator: below the total, above zero.
    const m = /RAM (\d+) KiB \((\d+) KiB free\)/.exec(r.serial)!;
    expect(Number(m[2])).toBeGreaterThan(64 * 1024);
    expect(Number(m[2])).toBeLessThan(Number(m[1]));
    expect(r.status).toBe(0);
  });

  it("from the ELF via PVH on microvm", async () => {
    const r = await runQemu({ kernel: elf, machine: "microvm", timeoutMs: 30_000 });
    expect(r.serial, r.stderr).toContain(GREETING);
    expect(r.status).toBe(0);
  });
});
