/**
 * The hosted Linux target (tools/link/hosted.ts, ABI.md "Hosted Linux target"): a guest linked
 * with kernel/wasm-host-linux.ts runs as a Linux process with bare metal's output and statuses.
 * Its guest memories are guarded (no bounds check in the code; an access out of bounds faults and
 * tools/link/hosted-faults.ts turns that into the trap): the traps, a straddling store, memory.grow
 * and the report of any other fault are tested here.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildHostedImage } from "../../tools/link/build.ts";
import { linkHosted } from "../../tools/link/hosted.ts";
import { compileSnippet } from "../../tools/build/compile.ts";
import { readModule } from "../../tools/wasm/reader.ts";
import { wasmHostLinuxModule } from "../../tools/link/build.ts";
import { runSpecFile } from "../../tools/spec/run.ts";
import { watToWasm } from "../translate/harness.ts";
import { nodeTs } from "../../tools/loader/node.ts";

const dir = mkdtempSync(join(tmpdir(), "hosted-test-"));
let n = 0;

async function runHosted(wasm: Uint8Array) {
  return runElf((await buildHostedImage(wasm)).elf);
}

function runElf(elf: Uint8Array) {
  const exe = join(dir, `guest${n++}`);
  writeFileSync(exe, elf);
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

  it("without a name section, a backtrace names functions by their first export, else by index", async () => {
    const wasm = await watToWasm(`(module
      (func $inner (unreachable))
      (func $mid (export "middle") (export "other") (call $inner))
      (func (export "main") (call $mid)))`, false); // no name section
    const separate = runElf((await buildHostedImage(wasm, undefined, { inline: false })).elf);
    expect(separate.stdout).toMatch(/trap: unreachable\n  at guest\.func\[0\]\+0x[0-9a-f]+ \(0x[0-9a-f]+\)\n  at guest\.middle\+0x[0-9a-f]+ \(0x[0-9a-f]+\)\n  at guest\.main\+0x/);
  });

  it("a trap in an inlined function names it, then its caller; without inlining (--no-inline) each has its frame", async () => {
    const wasm = await watToWasm(`(module
      (func $inner (param i32) (result i32) (i32.div_s (i32.const 1) (local.get 0)))
      (func $outer (export "main") (drop (call $inner (i32.const 0)))))`);
    const inlined = await runHosted(wasm);
    expect(inlined.stdout).toMatch(/trap: integer divide by zero\n  at inner\+0x[0-9a-f]+ \[inlined\] \((0x[0-9a-f]+)\)\n  at outer\+0x[0-9a-f]+ \(\1\)/);
    const separate = runElf((await buildHostedImage(wasm, undefined, { inline: false })).elf);
    expect(separate.stdout).toMatch(/trap: integer divide by zero\n  at inner\+0x[0-9a-f]+ \(0x[0-9a-f]+\)\n  at outer\+0x/);
    expect(separate.stdout).not.toContain("[inlined]");
    expect(inlined.status).toBe(2);
    expect(separate.status).toBe(2);
  });

  it("a trap in an inlined function's abort arm (translated out of line) still names the inlined function", async () => {
    const viaCall = await runHosted(await watToWasm(`(module
      (global $z (mut i32) (i32.const 0))
      (func $boom (drop (i32.div_s (i32.const 1) (global.get $z))))
      (func $inner (param i32) (result i32) (if (i32.eqz (local.get 0)) (then (call $boom) (unreachable))) (local.get 0))
      (func $outer (export "main") (drop (call $inner (i32.const 1))) (drop (call $inner (global.get $z)))))`));
    expect(viaCall.stdout).toMatch(/trap: integer divide by zero\n  at boom\+0x[0-9a-f]+ \(0x[0-9a-f]+\)\n  at inner\+0x[0-9a-f]+ \[inlined\] \((0x[0-9a-f]+)\)\n  at outer\+0x[0-9a-f]+ \(\1\)/);
    const direct = await runHosted(await watToWasm(`(module
      (global $z (mut i32) (i32.const 0))
      (func $check (param i32) (result i32) (if (i32.eqz (local.get 0)) (then (unreachable))) (local.get 0))
      (func $outer (export "main") (drop (call $check (i32.const 1))) (drop (call $check (global.get $z)))))`));
    expect(direct.stdout).toMatch(/trap: unreachable\n  at check\+0x[0-9a-f]+ \[inlined\] \((0x[0-9a-f]+)\)\n  at outer\+0x[0-9a-f]+ \(\1\)/);
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

  describe("guard pages instead of bounds checks", () => {
    // One page; $peek/$poke are the accesses, main calls them through $via (so the backtrace has two names).
    const guest = (body: string) => watToWasm(`(module ${TRACE}
      (memory 1 2) (data (i32.const 65528) "\\01\\02\\03\\04\\05\\06\\07\\08")
      (func $peek (param i32) (result i32) (i32.load (local.get 0)))
      (func $poke (param i32) (i64.store (local.get 0) (i64.const -1)))
      (func $far (result i32) (i32.load offset=0xffffffff (i32.const -1)))
      (func $say (param f64) (call $t (i32.const 0) (i32.const 1) (local.get 0) (f64.const 0) (f64.const 0) (f64.const 0) (f64.const 0)))
      (func $via (param i32) ${body})
      (func (export "main") (call $via (i32.const 0))))`);
    const expectTrap = (r: { stdout: string; status: number | null }, fn: string) => {
      expect(r.stdout).toContain("trap: out of bounds memory access");
      expect(r.stdout).toMatch(new RegExp(`at ${fn}\\+0x[0-9a-f]+[\\s\\S]*at via\\+0x[0-9a-f]+`));
      expect(r.status).toBe(2);
    };

    it("a load that straddles the end of memory traps: message, backtrace, status 2", async () => {
      expectTrap(await runHosted(await guest(`(call $say (f64.convert_i32_u (call $peek (i32.const 65532)))) (drop (call $peek (i32.const 65533)))`)), "peek");
    });

    it("a straddling store traps the same way; the farthest access (0xffffffff + offset 0xffffffff) too", async () => {
      expectTrap(await runHosted(await guest(`(call $poke (i32.const 65532))`)), "poke");
      expectTrap(await runHosted(await guest(`(drop (call $far))`)), "far");
    });

    it("after memory.grow the new page is accessible and the access past it traps", async () => {
      const r = await runHosted(await guest(`(call $say (f64.convert_i32_s (memory.grow (i32.const 1))))
        (call $poke (i32.const 131064)) (call $say (f64.convert_i32_s (call $peek (i32.const 131068)))) (drop (call $peek (i32.const 131069)))`));
      expect(r.stdout).toMatch(/^\S* 1\n\S* -1\n/); // old size 1; the word just below the new end
      expectTrap(r, "peek");
    });

    it("a straddling store writes nothing: the in-bounds bytes are unchanged afterwards (spec driver, one process)", async () => {
      const file = join(dir, "straddle.wast");
      writeFileSync(file, `(module
        (memory 1 2) (data (i32.const 65528) "\\01\\02\\03\\04\\05\\06\\07\\08")
        (func (export "store64") (param i32 i64) (i64.store (local.get 0) (local.get 1)))
        (func (export "store16") (param i32 i32) (i32.store16 (local.get 0) (local.get 1)))
        (func (export "load64") (param i32) (result i64) (i64.load (local.get 0)))
        (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))
      (assert_trap (invoke "store64" (i32.const 65532) (i64.const -1)) "out of bounds memory access")
      (assert_trap (invoke "store16" (i32.const 65535) (i32.const -1)) "out of bounds memory access")
      (assert_return (invoke "load64" (i32.const 65528)) (i64.const 0x0807060504030201))
      (assert_trap (invoke "load64" (i32.const 65529)) "out of bounds memory access")
      (assert_return (invoke "grow" (i32.const 1)) (i32.const 1))
      (assert_return (invoke "store64" (i32.const 65532) (i64.const -1)))
      (assert_return (invoke "load64" (i32.const 65528)) (i64.const 0xffffffff04030201))
      (assert_return (invoke "load64" (i32.const 131064)) (i64.const 0))
      (assert_trap (invoke "store64" (i32.const 131065) (i64.const -1)) "out of bounds memory access")
      (assert_return (invoke "load64" (i32.const 131064)) (i64.const 0))
      (assert_return (invoke "grow" (i32.const 1)) (i32.const -1))`);
      const r = await runSpecFile(file, { kernel: readModule(await wasmHostLinuxModule()) });
      expect(r.failures).toEqual([]);
      expect(r.passed).toBe(11);
    });

    it("any other fault is reported on stderr and kills the process with SIGSEGV", async () => {
      // A kernel module of its own whose main reads unmapped address 8 (identity memory: no check).
      const kernel = readModule(await watToWasm(`(module (memory 1)
        (func (export "__trap") (param i32 i64 i64)) (func (export "_exit") (param i32))
        (func $main (export "main") (drop (i32.load (i32.const 8)))))`));
      const image = linkHosted({ kernel });
      const r = runElf(image.elf);
      expect(r.signal).toBe("SIGSEGV");
      const m = /^hosted: segmentation fault at rip=0x([0-9a-f]{16}), addr=0x0000000000000008\n$/.exec(r.stderr);
      expect(m).not.toBeNull();
      const main = image.symbols.find((s) => s.name.endsWith("main") && s.kind === "func" && s.name !== "wasm_main")!;
      const rip = parseInt(m![1], 16);
      expect(rip >= main.addr && rip < main.addr + main.size).toBe(true);
    });
  });

  it("refuses an unknown import before running, naming it", async () => {
    const bad = await watToWasm(`(module (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32))) (func (export "main")))`);
    await expect(buildHostedImage(bad)).rejects.toThrow("unsupported import: wasi_snapshot_preview1.fd_write");
  });

  it("npm run wasm -- --hosted builds and runs the module as a process", () => {
    writeFileSync(join(dir, "trap.wasm"), Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 4, 1, 0x60, 0, 0, 3, 2, 1, 0,
      7, 8, 1, 4, 0x6d, 0x61, 0x69, 0x6e, 0, 0, 10, 5, 1, 3, 0, 0, 0x0b])); // (func (export "main") unreachable)
    const r = spawnSync(...nodeTs("tools/cli/wasm.ts", "--hosted", join(dir, "trap.wasm")), { encoding: "utf8", timeout: 60_000 });
    expect(r.stdout).toContain("trap: unreachable");
    expect(r.status).toBe(2);
  }, 90_000);
});
