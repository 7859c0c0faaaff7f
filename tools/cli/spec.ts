/**
 * `npm run spec [-- [--metal] <file.wast> ...]`: the WebAssembly core test suite
 * (/work/shared/wasm-spec-testsuite, default: every non-SIMD file) on the hosted Linux target,
 * one process per script (tools/spec/run.ts). `--metal` boots each script's image under QEMU
 * instead (slow: use it on a few files). Prints one line per file, the skip reasons with counts,
 * then `N passed, M failed, K skipped`. Exit status 1 when anything failed.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readModule } from "../wasm/reader.ts";
import { wasmHostLinuxModule, wasmHostModule } from "../link/build.ts";
import { runQemu } from "../qemu/runner.ts";
import { runSpecFile, specFiles, type FileResult } from "../spec/run.ts";

async function main(argv: string[]): Promise<number> {
  const metal = argv.includes("--metal");
  const verbose = argv.includes("--verbose") || argv.includes("-v");
  const files = argv.filter((a) => !a.startsWith("-"));
  const list = files.length ? files : specFiles();
  // SPEC_KERNEL_WASM: use a prebuilt kernel module (e.g. while the kernel does not compile).
  const prebuilt = process.env.SPEC_KERNEL_WASM;
  const kernel = readModule(prebuilt ? new Uint8Array(readFileSync(prebuilt)) : metal ? await wasmHostModule() : await wasmHostLinuxModule());
  const dir = mkdtempSync(join(tmpdir(), "spec-metal-"));
  const runMetal = async (elf: Uint8Array) => {
    const path = join(dir, "module.elf");
    writeFileSync(path, elf);
    const r = await runQemu({ kernel: path, machine: "microvm", memory: "512M", timeoutMs: 60_000 });
    const problem = r.timedOut ? "timeout" : r.status !== 0 ? `exit status ${r.status}` : "";
    return { stdout: r.serial, problem };
  };
  const started = Date.now();
  const all: FileResult[] = [];
  try {
    for (const f of list) {
      const r = await runSpecFile(f, { kernel, target: metal ? "metal" : "hosted", runMetal });
      all.push(r);
      console.log(`${f}: ${r.passed} passed, ${r.failed} failed, ${r.skipped} skipped`);
      for (const m of r.failures.slice(0, verbose ? undefined : 10)) console.log(`  FAIL ${m}`);
      if (!verbose && r.failures.length > 10) console.log(`  ... ${r.failures.length - 10} more failures (--verbose)`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const sum = (k: "passed" | "failed" | "skipped") => all.reduce((n, r) => n + r[k], 0);
  const reasons = new Map<string, number>();
  for (const r of all) for (const [k, n] of r.skips) reasons.set(k, (reasons.get(k) ?? 0) + n);
  if (reasons.size) {
    console.log("skipped, by reason:");
    for (const [k, n] of [...reasons].sort((a, b) => b[1] - a[1])) console.log(`  ${n}  ${k}`);
  }
  console.log(`${list.length} files on the ${metal ? "bare-metal (QEMU)" : "hosted Linux"} target in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  console.log(`${sum("passed")} passed, ${sum("failed")} failed, ${sum("skipped")} skipped`);
  return sum("failed") ? 1 : 0;
}

main(process.argv.slice(2)).then((code) => process.exit(code), (e) => {
  console.error(e instanceof Error ? e.stack ?? e.message : e);
  process.exit(2);
});
