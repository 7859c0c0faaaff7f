/**
 * translate-speed: how fast the toolchain turns wasm into a linked image (issue 3: "at least 10 MB
 * of wasm per second, measured on the largest module we build"). Times readModule + validateModule
 * + translate + link of: the kernel+app images (apps/*, bare metal), the AssemblyScript benchmark
 * kernels of bench/translator as hosted guests (their wasm plus the host kernel's), and a large
 * generated module (tools/fuzz/generate.ts, many programs) as a hosted guest. Compilation (asc,
 * wat2wasm) is outside the timing. Each figure is the best of `runs` after one warm-up run.
 * The npm scripts run Node with a 64 MB young generation (`--max-semi-space-size=64`, package.json):
 * the operators the reader decodes live until the module is translated, and with the default 16 MB
 * every scavenge copies them again (GC time per run of the generated module about 35 -> 25 ms).
 * Each case records `wasmSha256` (its input wasm, guest + host kernel): the generated module follows
 * the fuzz generator and the kernels follow asc and our sources, so two rounds' MB/s compare only
 * where the hashes agree.
 *
 * The largest module also through the quick tier (tools/translate/quick/, `--quick`: one pass per
 * function from its bytes, bodies read lazily; the functions it does not take through the
 * optimising tier), warm and once in a fresh process, with the size of its code.
 *
 * The generated module also once in a fresh process (tools/bench/translate-once.ts, best of
 * COLD_RUNS processes): what a single `npm run wasm -- --hosted` pays, before V8 has optimised the
 * translator's own code (the figures above are of warmed-up code).
 *
 * For scale, V8 compiling the generated guest module (without the host kernel) in a fresh process
 * each time (no code cache), eagerly (`--no-wasm-lazy-compilation`), best of V8_RUNS: TurboFan, the
 * optimising tier our code is compared with (bench translator), on one thread and with its
 * background compile threads, and Liftoff, its baseline compiler (no optimisation).
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compileKernelApp, compileSnippet, PROJECT_ROOT } from "../build/compile.ts";
import { linkImage } from "../link/image.ts";
import { linkHosted } from "../link/hosted.ts";
import { readValidated, wasmHostLinuxModule } from "../link/build.ts";
import { generateModule, moduleText } from "../fuzz/generate.ts";
import { KERNELS } from "./translator.ts";
import { nodeTs } from "../loader/node.ts";
import type { Tier } from "../translate/module.ts";

const APPS = ["hello", "net-probe", "udp-echo"];
/** Programs in the generated module (about 1 MB of wasm). */
const GENERATED_PROGRAMS = 1500;
/** V8's compilers on the generated module: Node flags, and processes per figure. */
const V8_MODES: [string, string[]][] = [
  ["TurboFan, one thread", ["--no-liftoff", "--single-threaded", "--no-wasm-lazy-compilation"]],
  ["TurboFan, background threads", ["--no-liftoff", "--no-wasm-lazy-compilation"]],
  ["Liftoff (baseline), one thread", ["--liftoff", "--no-wasm-tier-up", "--single-threaded", "--no-wasm-lazy-compilation"]],
];
const V8_RUNS = 3;
const COLD_RUNS = 3;

/** MB (10^6 bytes) per second, two decimals. */
function mbPerSecond(bytes: number, ms: number): number {
  return +(bytes / 1e6 / (ms / 1000)).toFixed(2);
}

/** The best of `runs` fresh processes `[command, args]`, each printing its time as JSON {ms}. */
function bestOfProcesses(runs: number, [command, args]: [string, string[]], what: string): number {
  let best = Infinity;
  for (let i = 0; i < runs; i++) {
    const r = spawnSync(command, args, { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`${what} failed: ${r.stderr || r.error}`);
    best = Math.min(best, JSON.parse(r.stdout).ms);
  }
  return best;
}

/** V8's compile speed on the module in `file` (`bytes` long) per V8_MODES, each the best of V8_RUNS fresh processes. */
function v8CompileSpeeds(file: string, bytes: number, log: (s: string) => void): { mode: string; ms: number; mbPerSecond: number }[] {
  return V8_MODES.map(([mode, flags]) => {
    const best = bestOfProcesses(V8_RUNS, [process.execPath, [...flags, join(PROJECT_ROOT, "tools/bench/v8-compile.mjs"), file]], `V8 compile (${flags.join(" ")})`);
    const speed = mbPerSecond(bytes, best);
    log(`  V8 ${mode.padEnd(32)} ${best.toFixed(0).padStart(6)} ms ${speed.toFixed(2).padStart(7)} MB/s`);
    return { mode, ms: +best.toFixed(1), mbPerSecond: speed };
  });
}

interface Case { name: string; wasmBytes: number; wasmSha256: string; link: () => void }

/** Best of `runs` links of `c` after a warm-up, logged. */
function measure(c: Case, runs: number, log: (s: string) => void) {
  c.link(); // warm-up (JIT)
  let best = Infinity;
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    c.link();
    best = Math.min(best, performance.now() - t);
  }
  const speed = mbPerSecond(c.wasmBytes, best);
  log(`${c.name.padEnd(60)} ${(c.wasmBytes / 1024).toFixed(0).padStart(6)} KiB ${best.toFixed(0).padStart(6)} ms ${speed.toFixed(2).padStart(7)} MB/s  wasm ${c.wasmSha256}`);
  return { name: c.name, wasmBytes: c.wasmBytes, wasmSha256: c.wasmSha256, ms: +best.toFixed(1), mbPerSecond: speed };
}

/** First 16 hex digits of the SHA-256 of the input wasm (the parts in order). */
function inputHash(...parts: Uint8Array[]): string {
  const h = createHash("sha256");
  for (const p of parts) h.update(p);
  return h.digest("hex").slice(0, 16);
}

async function watToWasm(wat: string): Promise<Uint8Array> {
  const wabt = await (await import("wabt")).default();
  const m = wabt.parseWat("generated.wat", wat, { multi_value: true, bulk_memory: true, sign_extension: true, sat_float_to_int: true, reference_types: true });
  try {
    return new Uint8Array(m.toBinary({ write_debug_names: true }).buffer);
  } finally {
    m.destroy();
  }
}

export async function benchTranslateSpeed(runs: number, log: (s: string) => void): Promise<Record<string, unknown>> {
  const cases: Case[] = [];
  for (const app of APPS) {
    const wasm = (await compileKernelApp(join("apps", app))).wasm;
    cases.push({ name: `app ${app} (kernel + app, bare metal)`, wasmBytes: wasm.length, wasmSha256: inputHash(wasm), link: () => linkImage({ kernel: readValidated(wasm), bios: false }) });
  }
  const host = await wasmHostLinuxModule();
  const hosted = (name: string, guest: Uint8Array, tier: Tier = "optimizing"): Case => ({
    name, wasmBytes: host.length + guest.length, wasmSha256: inputHash(guest, host),
    link: () => linkHosted({ kernel: readValidated(host, tier), guest: readValidated(guest, tier), tier }),
  });
  for (const k of KERNELS) {
    const src = readFileSync(join(PROJECT_ROOT, "bench/translator", `${k}.ts`), "utf8");
    cases.push(hosted(`bench kernel ${k} (+ host kernel, hosted)`, await compileSnippet(src, { runtime: k === "strings" ? "incremental" : "stub" })));
  }
  const gen = generateModule(0x7e57, GENERATED_PROGRAMS);
  const generated = await watToWasm(moduleText(gen.gen, gen.programs.map((program) => ({ program }))));
  cases.push(hosted(`generated (${GENERATED_PROGRAMS} fuzz programs, + host kernel, hosted)`, generated));

  const results = cases.map((c) => measure(c, runs, log));

  // The quick tier (`--quick`) on the largest module.
  log(`quick tier (tools/translate/quick/, --quick):`);
  // Best of 4x as many runs: each takes about a fifth of an optimising one, so about the same
  // measuring time, and as many chances to fall in a quiet moment of the shared host.
  const quick = measure(hosted(`generated (${GENERATED_PROGRAMS} fuzz programs, + host kernel, hosted), quick tier`, generated, "quick"), 4 * runs, log);
  const qLinked = linkHosted({ kernel: readValidated(host, "quick"), guest: readValidated(generated, "quick"), tier: "quick" });
  const optimisedText = linkHosted({ kernel: readValidated(host), guest: readValidated(generated) }).textBytes;
  log(`  functions it took: ${qLinked.functions.quick} of ${qLinked.functions.defined}; code ${qLinked.textBytes} bytes against ${optimisedText} optimised`);
  // The fresh-process figures read the modules from files.
  const dir = mkdtempSync(join(tmpdir(), "translate-speed-"));
  let coldMs: number, coldMbPerSecond: number, quickColdMs: number, v8: ReturnType<typeof v8CompileSpeeds>;
  try {
    const guestFile = join(dir, "guest.wasm"), hostFile = join(dir, "host.wasm");
    writeFileSync(guestFile, generated);
    writeFileSync(hostFile, host);
    coldMs = bestOfProcesses(COLD_RUNS, nodeTs(join(PROJECT_ROOT, "tools/bench/translate-once.ts"), guestFile, hostFile), "translate-once");
    coldMbPerSecond = mbPerSecond(generated.length + host.length, coldMs);
    log(`generated, once in a fresh process (not warmed up), best of ${COLD_RUNS}: ${coldMs.toFixed(0)} ms ${coldMbPerSecond.toFixed(2)} MB/s`);
    quickColdMs = bestOfProcesses(COLD_RUNS, nodeTs(join(PROJECT_ROOT, "tools/bench/translate-once.ts"), guestFile, hostFile, "quick"), "translate-once quick");
    log(`  the same through the quick tier: ${quickColdMs.toFixed(0)} ms ${mbPerSecond(generated.length + host.length, quickColdMs).toFixed(2)} MB/s`);
    log(`for scale, V8 compiling the generated guest module (${(generated.length / 1024).toFixed(0)} KiB, without the host kernel):`);
    v8 = v8CompileSpeeds(guestFile, generated.length, log);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const largest = results.reduce((a, b) => (b.wasmBytes > a.wasmBytes ? b : a));
  const total = results.reduce((n, r) => n + r.wasmBytes, 0), totalMs = results.reduce((n, r) => n + r.ms, 0);
  return {
    date: new Date().toISOString(),
    host: "2 cores shared, Node.js " + process.version + process.execArgv.filter((a) => a.startsWith("--max-semi-space-size")).map((a) => " " + a).join(""),
    method: `readModule + validateModule + translate + link (ELF written), best of ${runs} after a warm-up; MB = 10^6 bytes of input wasm (guest + host kernel for hosted cases)`,
    goalMbPerSecond: 10,
    largest: { name: largest.name, wasmBytes: largest.wasmBytes, wasmSha256: largest.wasmSha256, mbPerSecond: largest.mbPerSecond },
    largestOnceInFreshProcess: { ms: +coldMs.toFixed(1), mbPerSecond: coldMbPerSecond, method: `read + validate + translate + link once in a fresh node process (tools/bench/translate-once.ts), best of ${COLD_RUNS}` },
    overallMbPerSecond: mbPerSecond(total, totalMs),
    cases: results,
    quickTier: {
      method: `the same, through the quick tier (ModuleOptions.tier "quick", bodies read lazily: what \`--quick\` does), best of ${4 * runs} after a warm-up`,
      largest: { name: quick.name, wasmBytes: quick.wasmBytes, wasmSha256: quick.wasmSha256, ms: quick.ms, mbPerSecond: quick.mbPerSecond },
      largestOnceInFreshProcess: { ms: +quickColdMs.toFixed(1), mbPerSecond: mbPerSecond(generated.length + host.length, quickColdMs) },
      functions: qLinked.functions,
      codeBytes: { quick: qLinked.textBytes, optimizing: optimisedText },
    },
    v8CompileOfGenerated: { wasmBytes: generated.length, method: `WebAssembly.compile in a fresh node process, eager, best of ${V8_RUNS}`, modes: v8 },
  };
}
