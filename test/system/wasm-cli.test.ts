/**
 * `npm run wasm -- <module.wasm>` as a user runs it: output on stdout, the module's exit status,
 * status 3 and a message naming the culprit for anything refused before boot.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compileSnippet } from "../../tools/build/compile.ts";
import { watToWasm } from "../translate/harness.ts";
import { nodeTs } from "../../tools/loader/node.ts";

const dir = mkdtempSync(join(tmpdir(), "wasm-cli-"));

function runCli(wasm: Uint8Array | Buffer, name: string, args: string[] = []) {
  const file = join(dir, name);
  writeFileSync(file, wasm);
  const r = spawnSync(...nodeTs("tools/cli/wasm.ts", ...args, file), { encoding: "utf8", timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("npm run wasm", () => {
  it("runs an AssemblyScript module (start section, then main) and prints its trace output", async () => {
    const wasm = await compileSnippet(`
      let counter = 40;
      counter += 2;
      export function main(): void { trace("answer", 2, counter, -0.5); }
    `);
    const r = runCli(wasm, "answer.wasm");
    expect(r.stdout, r.stderr).toContain("answer 42 -0.5");
    expect(r.status).toBe(0);
  });

  it("an exported _start runs before main", async () => {
    const wasm = await watToWasm(`(module
      (import "env" "trace" (func $t (param i32 i32 f64 f64 f64 f64 f64)))
      (memory 1) (data (i32.const 12) "\\02\\00\\00\\00A\\00") (data (i32.const 28) "\\02\\00\\00\\00B\\00")
      (func (export "main") (call $t (i32.const 32) (i32.const 0) (f64.const 0) (f64.const 0) (f64.const 0) (f64.const 0) (f64.const 0)))
      (func (export "_start") (call $t (i32.const 16) (i32.const 0) (f64.const 0) (f64.const 0) (f64.const 0) (f64.const 0) (f64.const 0))))`);
    const r = runCli(wasm, "start.wasm");
    expect(r.stdout.replace(/\r/g, "")).toMatch(/^A\nB$/m);
    expect(r.status).toBe(0);
  });

  it("abort prints message, file, line and column and ends with status 1", async () => {
    const wasm = await compileSnippet(`export function main(): void { abort("it broke", "here.ts", 12, 34); }`);
    const r = runCli(wasm, "abort.wasm");
    expect(r.stdout).toContain("abort: it broke at here.ts:12:34");
    expect(r.status).toBe(1);
  });

  it("a trap prints its kind and a backtrace of wasm function names and ends with status 2", async () => {
    const wasm = await watToWasm(`(module (func $inner (unreachable)) (func $outer (call $inner)) (func (export "main") (call $outer)))`);
    const r = runCli(wasm, "trap.wasm");
    expect(r.stdout).toContain("trap: unreachable");
    expect(r.stdout).toMatch(/at inner\+0x[0-9a-f]+[\s\S]*at outer\+0x[0-9a-f]+/);
    expect(r.status).toBe(2);
  });

  it("refuses a module using an unsupported operator before boot, naming it, with status 3", async () => {
    const wasm = await watToWasm(`(module (func (export "main") (drop (i32x4.splat (i32.const 1)))))`);
    const r = runCli(wasm, "simd.wasm");
    expect(r.stderr).toContain("unsupported operator: i32x4.splat");
    expect(r.status).toBe(3);
  });

  it("refuses an unknown import, naming it, with status 3", async () => {
    const wasm = await watToWasm(`(module (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32))) (func (export "main")))`);
    const r = runCli(wasm, "import.wasm");
    expect(r.stderr).toContain("unsupported import: wasi_snapshot_preview1.fd_write");
    expect(r.status).toBe(3);
  });

  it("refuses a malformed module with status 3", () => {
    const r = runCli(Buffer.from([0, 0x61, 0x73, 0x6d, 2, 0, 0, 0]), "bad.wasm");
    expect(r.stderr).toMatch(/refused: .*version/i);
    expect(r.status).toBe(3);
  });
});
