/**
 * Test helpers for test/image: a scratch directory and child processes with hard timeouts
 * (binutils, isoinfo/xorriso, QEMU under TCG).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Run a program with a hard timeout (seconds); never throws on a non-zero status. */
export function run(cmd: string, args: string[], timeoutSeconds = 30): RunResult {
  const r = spawnSync(cmd, args, { encoding: "latin1", timeout: timeoutSeconds * 1000, killSignal: "SIGKILL", maxBuffer: 64 << 20 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Like `run` but returns stdout as raw bytes (for extracting file contents). */
export function runBytes(cmd: string, args: string[], timeoutSeconds = 30): Uint8Array {
  const r = spawnSync(cmd, args, { timeout: timeoutSeconds * 1000, killSignal: "SIGKILL", maxBuffer: 64 << 20 });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.status}): ${r.stderr}`);
  return new Uint8Array(r.stdout);
}

/** QEMU under TCG with isa-debug-exit at 0xF4 and a hard timeout; returns the exit status. */
export function qemu(args: string[]): RunResult {
  return run("timeout", [
    "20", "qemu-system-x86_64", "-accel", "tcg", "-display", "none", "-no-reboot",
    "-device", "isa-debug-exit,iobase=0xf4,iosize=4", ...args,
  ], 25);
}

export class Scratch {
  readonly dir = mkdtempSync(join(tmpdir(), "image-test-"));
  file(name: string, data: Uint8Array, mode = 0o644): string {
    const p = join(this.dir, name);
    writeFileSync(p, data, { mode });
    return p;
  }
  path(name: string): string {
    return join(this.dir, name);
  }
  dispose(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
