/**
 * QEMU runner: boots hand-built images (test/qemu/images.ts) under TCG and checks serial capture,
 * isa-debug-exit status decoding, the hard timeout, QEMU errors and the missing-binary message.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  QEMU_MISSING_MESSAGE,
  decodeStatus,
  findQemu,
  qemuArgs,
  runQemu,
} from "../../tools/qemu/runner.ts";
import { biosBootImage, pvhElf, serialThenExit32, serialThenSpin32 } from "./images.ts";

let dir: string;
let exitElf: string; // prints "hi\n", exits with status 5
let spinElf: string; // prints "spin\n", then `jmp $`
let resetElf: string; // prints "reset\n", then resets through the keyboard controller

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "qemu-runner-"));
  exitElf = join(dir, "exit5.elf");
  writeFileSync(exitElf, pvhElf(serialThenExit32("hi\n", 5)));
  spinElf = join(dir, "spin.elf");
  writeFileSync(spinElf, pvhElf(serialThenSpin32("spin\n")));
  resetElf = join(dir, "reset.elf");
  const reset = [...serialThenSpin32("reset\n")].slice(0, -2); // drop the `jmp $`
  reset.push(0xb0, 0xfe, 0xe6, 0x64, 0xeb, 0xfe); // mov al, 0xfe; out 0x64, al (pulse reset); jmp $
  writeFileSync(resetElf, pvhElf(Uint8Array.from(reset)));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("runQemu", () => {
  it("boots a PVH ELF on pc: serial captured, status decoded", async () => {
    const r = await runQemu({ kernel: exitElf, timeoutMs: 30_000 });
    expect(r.serial).toBe("hi\n");
    expect(r.qemuExitCode).toBe(11);
    expect(r.status).toBe(5);
    expect(r.timedOut).toBe(false);
    expect(r.command).toEqual(expect.arrayContaining(["-accel", "tcg", "-kernel", exitElf]));
  });

  it("boots a PVH ELF on microvm with ttyS0 and isa-debug-exit, streaming serial", async () => {
    const chunks: string[] = [];
    const r = await runQemu({
      kernel: exitElf,
      machine: "microvm",
      append: "console=ttyS0",
      timeoutMs: 30_000,
      onSerial: (t) => chunks.push(t),
    });
    expect(r.stderr).toBe("");
    expect(r.serial).toBe("hi\n");
    expect(chunks.join("")).toBe("hi\n");
    expect(r.status).toBe(5);
  });

  it("boots a PVH ELF on q35", async () => {
    const r = await runQemu({ kernel: exitElf, machine: "q35", timeoutMs: 30_000 });
    expect([r.serial, r.status]).toEqual(["hi\n", 5]);
  });

  it("kills a spinning guest at the timeout and keeps what it printed", async () => {
    const r = await runQemu({ kernel: spinElf, machine: "microvm", timeoutMs: 3_000 });
    expect(r.timedOut).toBe(true);
    expect(r.status).toBeNull();
    expect(r.qemuExitCode).toBeNull(); // killed by SIGKILL, no exit code
    expect(r.serial).toBe("spin\n");
    expect(r.wallMs).toBeGreaterThanOrEqual(2_900);
    expect(r.wallMs).toBeLessThan(15_000);
  });

  it("reports no status when the guest resets (-no-reboot ends the run)", async () => {
    const r = await runQemu({ kernel: resetElf, timeoutMs: 30_000 });
    expect(r.timedOut).toBe(false);
    expect(r.serial).toBe("reset\n");
    expect(r.qemuExitCode).toBe(0);
    expect(r.status).toBeNull();
  });

  it("reports a QEMU error as no status, with stderr", async () => {
    const r = await runQemu({ kernel: exitElf, timeoutMs: 30_000, extraArgs: ["-device", "no-such-device"] });
    expect(r.qemuExitCode).toBe(1);
    expect(r.status).toBeNull();
    expect(r.stderr).toContain("no-such-device");
  });

  it("boots an El Torito ISO through SeaBIOS and decodes status 0", async () => {
    const root = join(dir, "isoroot");
    mkdirSync(root, { recursive: true });
    writeFileSync(join(root, "boot.bin"), biosBootImage("bios\n", 0));
    const iso = join(dir, "boot.iso");
    execFileSync(
      "xorriso",
      ["-as", "mkisofs", "-quiet", "-o", iso, "-b", "boot.bin", "-no-emul-boot", "-boot-load-size", "4", root],
      { stdio: "pipe" },
    );
    const r = await runQemu({ cdrom: iso, timeoutMs: 60_000 });
    expect(r.serial).toBe("bios\n");
    expect(r.qemuExitCode).toBe(1); // (0 << 1) | 1
    expect(r.status).toBe(0);
  });

  it("fails with the install hint when QEMU is not on PATH", async () => {
    const saved = process.env.PATH;
    process.env.PATH = dir; // holds no qemu-system-x86_64
    try {
      await expect(runQemu({ kernel: exitElf, timeoutMs: 1_000 })).rejects.toThrow(QEMU_MISSING_MESSAGE);
    } finally {
      process.env.PATH = saved;
    }
  });
});

describe("findQemu", () => {
  it("names the Debian package when QEMU is missing", () => {
    expect(() => findQemu("/nonexistent")).toThrow(
      "QEMU is not installed: run `sudo apt-get install qemu-system-x86` (Debian/Ubuntu)",
    );
  });

  it("finds the first executable on the path, skipping non-executable files", () => {
    const a = join(dir, "path-a");
    const b = join(dir, "path-b");
    mkdirSync(a, { recursive: true });
    mkdirSync(b, { recursive: true });
    writeFileSync(join(a, "qemu-system-x86_64"), "not executable");
    chmodSync(join(a, "qemu-system-x86_64"), 0o644);
    writeFileSync(join(b, "qemu-system-x86_64"), "#!/bin/sh\n");
    chmodSync(join(b, "qemu-system-x86_64"), 0o755);
    expect(findQemu(`${a}:${b}`)).toBe(join(b, "qemu-system-x86_64"));
  });
});

describe("qemuArgs", () => {
  it("always runs TCG, headless, no reboot, with COM1 and isa-debug-exit", () => {
    const args = qemuArgs({ kernel: exitElf, timeoutMs: 1 }).join(" ");
    for (const part of [
      "-machine pc",
      "-accel tcg",
      "-cpu max",
      "-m 128M",
      "-nodefaults",
      "-display none",
      "-monitor none",
      "-no-reboot",
      "-serial chardev:com1",
      "-device isa-debug-exit,iobase=0xf4,iosize=0x04",
    ]) {
      expect(args).toContain(part);
    }
  });

  it("gives microvm its ISA serial port and passes memory, cpu and extra args", () => {
    const args = qemuArgs({
      kernel: exitElf,
      machine: "microvm",
      memory: "256M",
      cpu: "qemu64",
      extraArgs: ["-smp", "2"],
      timeoutMs: 1,
    });
    expect(args[args.indexOf("-machine") + 1]).toMatch(/^microvm,.*isa-serial=on/);
    expect(args[args.indexOf("-m") + 1]).toBe("256M");
    expect(args[args.indexOf("-cpu") + 1]).toBe("qemu64");
    expect(args.slice(-2)).toEqual(["-smp", "2"]);
  });

  it("rejects contradictory or incomplete options", () => {
    expect(() => qemuArgs({ timeoutMs: 1 })).toThrow(/exactly one/);
    expect(() => qemuArgs({ kernel: exitElf, cdrom: exitElf, timeoutMs: 1 })).toThrow(/exactly one/);
    expect(() => qemuArgs({ cdrom: exitElf, append: "x", timeoutMs: 1 })).toThrow(/append/);
    expect(() => qemuArgs({ cdrom: exitElf, machine: "microvm", timeoutMs: 1 })).toThrow(/microvm/);
    expect(() => qemuArgs({ kernel: join(dir, "missing.elf"), timeoutMs: 1 })).toThrow(/no such image/);
  });
});

describe("decodeStatus", () => {
  it("decodes (status << 1) | 1 and nothing else", () => {
    expect(decodeStatus(1, "")).toBe(0);
    expect(decodeStatus(9, "")).toBe(4);
    expect(decodeStatus(255, "")).toBe(127);
    expect(decodeStatus(0, "")).toBeNull();
    expect(decodeStatus(2, "")).toBeNull();
    expect(decodeStatus(null, "")).toBeNull();
  });

  it("reads exit code 1 with a QEMU error line as a QEMU failure, but not a mere warning", () => {
    expect(decodeStatus(1, "qemu-system-x86_64: -kernel x: No such file\n")).toBeNull();
    expect(decodeStatus(1, "qemu-system-x86_64: warning: host lacks feature\n")).toBe(0);
  });
});
