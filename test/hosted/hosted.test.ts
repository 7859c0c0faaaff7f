/**
 * The hosted Linux target (tools/link/hosted.ts, ABI.md "Hosted Linux target"): a guest linked
 * with kernel/wasm-host-linux.ts runs as a Linux process with bare metal's output and statuses.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildHostedImage } from "../../tools/link/build.ts";
import { compileSnippet } from "../../tools/build/compile.ts";
import { watToWasm } from "../translate/harness.ts";

const dir = mkdtempSync(join(tmpdir(), "hosted-test-"));
let n = 0;

async function runHosted(wasm: Uint8Array) {
  const image = await buildHostedImage(wasm);
  const exe = join(dir, `guest${n++}`);
  writeFileSync(exe, image.elf);
  chmodSync(exe, 0o755);
  const r = spawnSync(exe, [], { encoding: "utf8", timeout: 20_000 });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

const TRACE = `(import "env" "trace" (func $t (param i32 i32 f64 f64 f64 f64 f64)))`;

describe("hosted Linux target", () => {
  it("runs an AssemblyScript module (start section, then main) and prints its trace output, status 0", async () => {
    const wasm = await compileSnippet(`
      let counter = 40;
      counter += 2;
      export function main(): void { trace("answer", 2, counter, -0.5); }
    `);
    const r = await runHosted(wasm);
    expect(r.stdout).toBe("answer 42 -0.5\n");
    expect(r.status).toBe(0);
  });

  it("abort prints message and location and ends with status 1", async () => {
    const wasm = await compileSnippet(`export function main(): void { abort("it broke", "here.ts", 12, 34); }`);
    const r = await runHosted(wasm);
    expect(r.stdout).toContain("abort: it broke at here.ts:12:34");
    expect(r.status).toBe(1);
  });

  it("a trap prints its kind and a backtrace of wasm function names, status 2", async () => {
    const wasm = await watToWasm(`(module (func $inner (unreachable)) (func $outer (call $inner)) (func (export "main") (call $outer)))`);
    const r = await runHosted(wasm);
    expect(r.stdout).toContain("trap: unreachable");
    expect(r.stdout).toMatch(/at inner\+0x[0-9a-f]+[\s\S]*at outer\+0x[0-9a-f]+/);
    expect(r.status).toBe(2);
  });

  it("unbounded recursion is 'call stack exhausted' (stack-limit check), status 2", async () => {
    const wasm = await watToWasm(`(module (func $f (call $f)) (func (export "main") (call $f)))`);
    const r = await runHosted(wasm);
    expect(r.stdout).toContain("trap: call stack exhausted");
    expect(r.status).toBe(2);
  });

  it("guest memory is mapped at GUEST_MEMORY_BASE with its data; accesses past memory.size trap", async () => {
    const wasm = await watToWasm(`(module ${TRACE}
      (memory 1 4) (data (i32.const 12) "\\04\\00\\00\\00h\\00i\\00")
      (func (export "main")
        (call $t (i32.const 16) (i32.const 1) (f64.convert_i32_s (memory.grow (i32.const 2))) (f64.const 0) (f64.const 0) (f64.const 0) (f64.const 0))
        (i32.store (i32.const 196604) (i32.const 7))
        (drop (i32.load (i32.const 196608)))))`);
    const r = await runHosted(wasm);
    expect(r.stdout).toContain("hi 1\n");
    expect(r.stdout).toContain("trap: out of bounds memory access");
    expect(r.status).toBe(2);
  });

  it("refuses an unknown import before running, naming it", async () => {
    const bad = await watToWasm(`(module (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32))) (func (export "main")))`);
    await expect(buildHostedImage(bad)).rejects.toThrow("unsupported import: wasi_snapshot_preview1.fd_write");
  });

  it("npm run wasm -- --hosted builds and runs the module as a process", () => {
    writeFileSync(join(dir, "trap.wasm"), Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 4, 1, 0x60, 0, 0, 3, 2, 1, 0,
      7, 8, 1, 4, 0x6d, 0x61, 0x69, 0x6e, 0, 0, 10, 5, 1, 3, 0, 0, 0x0b])); // (func (export "main") unreachable)
    const r = spawnSync("npx", ["tsx", "tools/cli/wasm.ts", "--hosted", join(dir, "trap.wasm")], { encoding: "utf8", timeout: 60_000 });
    expect(r.stdout).toContain("trap: unreachable");
    expect(r.status).toBe(2);
  }, 90_000);
});
