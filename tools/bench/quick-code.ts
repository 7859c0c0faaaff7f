/**
 * Quick-tier code benchmark (`npm run bench -- quick-code`): the eight translator-bench kernels
 * (tools/bench/translator.ts) through our quick tier (tools/translate/quick/, `--quick`, hosted)
 * against V8's baseline compiler on the same .wasm (Liftoff only: `--liftoff --no-wasm-tier-up`,
 * compiled eagerly before timing), with our optimising tier as a third way for scale. The ways take
 * turns for `runs` rounds; each way's best time counts; every way must print gcc's checksum line
 * (the translator bench's C). Ratios and their geometric mean: quick/Liftoff and quick/optimised.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compileSnippet } from "../build/compile.ts";
import { KERNELS, keepBest, runHosted, runV8, type Way } from "./translator.ts";

const LIFTOFF = ["--liftoff", "--no-wasm-tier-up", "--no-wasm-lazy-compilation"];

export async function benchQuickCode(log: (s: string) => void, runs = 5): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), "bench-quick-code-"));
  const rows: { name: string; quickMs: number; liftoffMs: number; optimizedMs: number }[] = [];
  try {
    for (const name of KERNELS) {
      const src = readFileSync(join("bench/translator", `${name}.ts`), "utf8");
      const wasm = await compileSnippet(src, { runtime: name === "strings" ? "incremental" : "stub" });
      let quick: Way | undefined, liftoff: Way | undefined, optimized: Way | undefined;
      for (let i = 0; i < runs; i++) {
        quick = keepBest(quick, await runHosted(wasm, dir, name, "quick"));
        liftoff = keepBest(liftoff, await runV8(wasm, dir, name, LIFTOFF));
        optimized = keepBest(optimized, await runHosted(wasm, dir, name));
      }
      if (quick!.output !== liftoff!.output.trim() || quick!.output !== optimized!.output) {
        throw new Error(`${name}: the ways disagree: quick ${JSON.stringify(quick!.output)}, Liftoff ${JSON.stringify(liftoff!.output)}, optimised ${JSON.stringify(optimized!.output)}`);
      }
      const row = { name, quickMs: +quick!.ms.toFixed(1), liftoffMs: +liftoff!.ms.toFixed(1), optimizedMs: +optimized!.ms.toFixed(1) };
      log(`${name.padEnd(9)} quick ${row.quickMs.toFixed(0).padStart(6)} ms  V8 Liftoff ${row.liftoffMs.toFixed(0).padStart(6)} ms  optimised ${row.optimizedMs.toFixed(0).padStart(6)} ms  quick/Liftoff ${(row.quickMs / row.liftoffMs).toFixed(2)}  quick/optimised ${(row.quickMs / row.optimizedMs).toFixed(2)}`);
      rows.push(row);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const geo = (xs: number[]) => +Math.exp(xs.reduce((s, x) => s + Math.log(x), 0) / xs.length).toFixed(2);
  const summary = { quickOverLiftoff: geo(rows.map((r) => r.quickMs / r.liftoffMs)), quickOverOptimized: geo(rows.map((r) => r.quickMs / r.optimizedMs)) };
  log(`geometric mean: quick/Liftoff ${summary.quickOverLiftoff}, quick/optimised ${summary.quickOverOptimized}`);
  return {
    date: new Date().toISOString(),
    method: `best of ${runs} rounds, the three ways in turn; quick and optimised = hosted executables, whole-process wall time; V8 Liftoff = node ${LIFTOFF.join(" ")}, module compiled before timing, time of the main() call; outputs compared`,
    kernels: rows.map((r) => ({ ...r, quickOverLiftoff: +(r.quickMs / r.liftoffMs).toFixed(2), quickOverOptimized: +(r.quickMs / r.optimizedMs).toFixed(2) })),
    geometricMean: summary,
  };
}
