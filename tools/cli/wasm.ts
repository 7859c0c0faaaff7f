/**
 * `npm run wasm -- [options] <module.wasm>`: runs any WebAssembly module (built by asc or not) on
 * bare metal under QEMU and prints its output. Exit status: the module's (0 done, 1 abort, 2 trap),
 * 3 when the module is refused before boot (malformed, invalid or using something unsupported).
 *
 * `--hosted`: the same kernel and guest as a Linux x86-64 executable (tools/link/hosted.ts, ABI.md
 * "Hosted Linux target"), run as a child process; same output and statuses. `--keep <file>` keeps
 * the executable (for gdb/perf). `--no-inline` keeps every call (tools/translate/inline.ts off), so
 * each function has its own frame and ELF symbol. `--quick` translates through the quick tier
 * (tools/translate/quick/: one pass, slower code) every function it takes.
 */
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawn } from "node:child_process";
import { chmodSync } from "node:fs";
import { buildGuestImage, buildHostedImage, type BuildOptions } from "../link/build.ts";
import type { Tier } from "../translate/module.ts";
import { quickSummary } from "./quick-summary.ts";
import { runQemu } from "../qemu/runner.ts";
import { Stages } from "./stages.ts";
import { UnsupportedError, LinkError } from "../translate/errors.ts";
import { WasmError } from "../wasm/reader.ts";

const USAGE = `usage: npm run wasm -- [--hosted [--keep <file>]] [--no-inline] [--quick] [--verbose] [--timeout <seconds>] [--machine microvm|pc] <module.wasm>`;

export const REFUSED = 3;

async function main(argv: string[]): Promise<number> {
  let file: string | undefined;
  let hosted = false, verbose = false, timeout = 30, inline = true;
  let tier: Tier = "optimizing";
  let keep: string | undefined;
  let machine: "microvm" | "pc" = "microvm";
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--hosted") hosted = true;
    else if (a === "--verbose" || a === "-v") verbose = true;
    else if (a === "--timeout") timeout = Number(argv[++i]);
    else if (a === "--keep") keep = argv[++i];
    else if (a === "--no-inline") inline = false;
    else if (a === "--quick") tier = "quick";
    else if (a === "--machine") machine = argv[++i] as "microvm" | "pc";
    else if (a === "-h" || a === "--help") { console.log(USAGE); return 0; }
    else if (a.startsWith("-")) { console.error(`unknown option: ${a}\n${USAGE}`); return 2; }
    else if (file) { console.error(`only one module, please\n${USAGE}`); return 2; }
    else file = a;
  }
  if (!file) { console.error(USAGE); return 2; }
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(file));
  } catch (e) {
    console.error(`cannot read ${file}: ${(e as Error).message}`);
    return 2;
  }
  const stages = new Stages(verbose ? undefined : () => {});
  if (hosted) return runHosted(bytes, stages, timeout, { inline, tier }, verbose, keep);
  let image;
  try {
    image = await buildGuestImage(bytes, stages, { inline, tier });
    if (verbose && tier === "quick") console.error(quickSummary(image.functions));
  } catch (e) {
    if (e instanceof UnsupportedError || e instanceof WasmError || e instanceof LinkError) {
      console.error(`refused: ${e.message}`);
      return REFUSED;
    }
    throw e;
  }
  const dir = mkdtempSync(join(tmpdir(), "wasm-run-"));
  try {
    const elf = join(dir, "guest.elf");
    writeFileSync(elf, image.elf);
    const r = await runQemu({
      kernel: elf, machine, memory: "512M", timeoutMs: timeout * 1000,
      onSerial: (t) => process.stdout.write(t),
    });
    if (r.timedOut) {
      console.error(`timeout: the module did not finish within ${timeout} s (raise it with --timeout)`);
      return 124;
    }
    if (r.status === null) {
      console.error(`the VM stopped without an exit status (QEMU exit code ${r.qemuExitCode}): ${r.stderr.trim()}`);
      return 125;
    }
    return r.status;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Builds the hosted executable, runs it with stdout passed through, returns its exit status. */
async function runHosted(bytes: Uint8Array, stages: Stages, timeout: number, opts: BuildOptions, verbose: boolean, keep?: string): Promise<number> {
  let image;
  try {
    image = await buildHostedImage(bytes, stages, opts);
    if (verbose && opts.tier === "quick") console.error(quickSummary(image.functions));
  } catch (e) {
    if (e instanceof UnsupportedError || e instanceof WasmError || e instanceof LinkError) {
      console.error(`refused: ${e.message}`);
      return REFUSED;
    }
    throw e;
  }
  const dir = mkdtempSync(join(tmpdir(), "wasm-hosted-"));
  try {
    const exe = keep ?? join(dir, "guest");
    writeFileSync(exe, image.elf);
    chmodSync(exe, 0o755);
    return await new Promise<number>((resolve, reject) => {
      const child = spawn(exe, [], { stdio: ["ignore", "inherit", "inherit"] });
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        console.error(`timeout: the module did not finish within ${timeout} s (raise it with --timeout)`);
        resolve(124);
      }, timeout * 1000);
      child.on("error", reject);
      child.on("exit", (code, signal) => {
        clearTimeout(timer);
        if (signal) console.error(`the process was killed by ${signal}`);
        resolve(code ?? 128 + 11);
      });
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main(process.argv.slice(2)).then((code) => process.exit(code), (e) => {
  console.error(e instanceof Error ? e.stack ?? e.message : e);
  process.exit(1);
});
