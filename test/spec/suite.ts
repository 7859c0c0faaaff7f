/**
 * Shared by the hosted spec test shards: runs a deterministic half of the suite's files
 * (balanced by file size) on the hosted target, one process per script (tools/spec/run.ts).
 */
import { statSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";
import { readModule } from "../../tools/wasm/reader.ts";
import { wasmHostLinuxModule } from "../../tools/link/build.ts";
import { runSpecFile, specFiles, SPEC_DIR } from "../../tools/spec/run.ts";
import type { Tier } from "../../tools/translate/module.ts";

/** Skip reasons the suite may report (unsupported features); anything else fails the test. Every
 *  non-SIMD assertion runs today, cross-module linking included (tools/link/guests.ts). */
export const ALLOWED_SKIPS: string[] = [];

/** Files of shard `k` of `n`: greedy by size so the shards take about as long. */
export function shardFiles(k: number, n: number): string[] {
  const files = specFiles().map((f) => ({ f, size: statSync(join(SPEC_DIR, f)).size })).sort((a, b) => b.size - a.size);
  const load = new Array(n).fill(0);
  const out: string[][] = Array.from({ length: n }, () => []);
  for (const { f, size } of files) {
    const i = load.indexOf(Math.min(...load));
    load[i] += size;
    out[i].push(f);
  }
  return out[k].sort();
}

/** Shard `k` of `n` through translator tier `tier` (the quick tier: tools/translate/quick/). */
export function specShard(k: number, n: number, tier: Tier = "optimizing"): void {
  it(`WebAssembly core spec suite, hosted target, ${tier} tier, shard ${k + 1}/${n}`, async () => {
    const kernel = readModule(await wasmHostLinuxModule());
    let passed = 0, skipped = 0;
    const failures: string[] = [];
    const reasons = new Map<string, number>();
    for (const f of shardFiles(k, n)) {
      const r = await runSpecFile(f, { kernel, tier });
      passed += r.passed;
      skipped += r.skipped;
      failures.push(...r.failures);
      for (const [why, c] of r.skips) reasons.set(why, (reasons.get(why) ?? 0) + c);
    }
    console.log(`spec shard ${k + 1}/${n} (${tier} tier): ${passed} passed, ${failures.length} failed, ${skipped} skipped`, Object.fromEntries(reasons));
    expect(failures).toEqual([]);
    expect([...reasons.keys()].filter((why) => !ALLOWED_SKIPS.includes(why))).toEqual([]);
    expect(passed).toBeGreaterThan(5000);
  }, 120_000);
}
