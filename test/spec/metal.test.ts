/**
 * A sample of the spec suite through the same driver on bare metal (PVH image under QEMU), so
 * both targets are held to the spec. One QEMU boot per script (all its instances in one image, linked
 * as its `register` commands say): small files only.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";
import { readModule } from "../../tools/wasm/reader.ts";
import { wasmHostModule } from "../../tools/link/build.ts";
import { runQemu } from "../../tools/qemu/runner.ts";
import { runSpecFile } from "../../tools/spec/run.ts";

const SAMPLE = ["forward.wast", "int_literals.wast", "call.wast", "memory_size.wast", "unwind.wast", "linking.wast"];

it(`spec sample on bare metal: ${SAMPLE.join(", ")}`, async () => {
  const kernel = readModule(await wasmHostModule());
  const dir = mkdtempSync(join(tmpdir(), "spec-metal-"));
  const runMetal = async (elf: Uint8Array) => {
    const path = join(dir, "module.elf");
    writeFileSync(path, elf);
    const r = await runQemu({ kernel: path, machine: "microvm", memory: "512M", timeoutMs: 60_000 });
    return { stdout: r.serial, problem: r.timedOut ? "timeout" : r.status !== 0 ? `exit status ${r.status}` : "" };
  };
  let passed = 0;
  const failures: string[] = [];
  for (const f of SAMPLE) {
    const r = await runSpecFile(f, { kernel, target: "metal", runMetal });
    passed += r.passed;
    failures.push(...r.failures);
    expect(r.skipped).toBe(0);
  }
  console.log(`spec sample on bare metal: ${passed} passed, ${failures.length} failed`);
  expect(failures).toEqual([]);
  expect(passed).toBeGreaterThan(150);
}, 180_000);
