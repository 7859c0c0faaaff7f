/**
 * `npm run ts -- tools/cli/bench-timers.ts [runs]`: timer precision and idle wake-ups of the event loop
 * under QEMU TCG, recorded, never asserted. Builds the in-guest test image of test/events/fixture.ts,
 * boots it `runs` times (default 3) on `pc` and `microvm`, and collects its figure lines:
 *   timer <requested> us -> <actual> us     (setTimeout to callback, measured with now())
 *   idle 100 ms: <n> halts, <m> timer interrupts
 * Results: printed, and written to bench/results/timers.json.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readModule } from "../wasm/reader.ts";
import { validateModule } from "../wasm/validate.ts";
import { linkImage } from "../link/image.ts";
import { runQemu } from "../qemu/runner.ts";
import { compileEventsApp } from "../../test/events/fixture.ts";

const runs = Number(process.argv[2] ?? 3);
const mod = readModule((await compileEventsApp()).wasm);
validateModule(mod);
const elf = join(mkdtempSync(join(tmpdir(), "bench-timers-")), "events.elf");
writeFileSync(elf, linkImage({ kernel: mod, bios: false }).elf);

const results: Record<string, unknown> = { date: new Date().toISOString(), runs, accel: "tcg" };
for (const machine of ["pc", "microvm"] as const) {
  const delays = new Map<number, number[]>();
  const halts: number[] = [];
  let timerMode = "";
  for (let i = 0; i < runs; i++) {
    const r = await runQemu({ kernel: elf, machine, timeoutMs: 30_000 });
    if (r.status !== 0) throw new Error(`${machine}: status ${r.status}\n${r.serial}\n${r.stderr}`);
    timerMode = /timer (TSC-deadline|one-shot \d+ kHz)/.exec(r.serial)?.[1] ?? "?";
    for (const m of r.serial.matchAll(/timer (\d+) us -> (\d+) us/g)) {
      const req = Number(m[1]);
      delays.set(req, [...(delays.get(req) ?? []), Number(m[2])]);
    }
    const idle = /idle 100 ms: (\d+) halts/.exec(r.serial);
    if (idle) halts.push(Number(idle[1]));
  }
  const rows = [...delays].map(([requestedUs, actual]) => {
    const sorted = [...actual].sort((a, b) => a - b);
    return { requestedUs, minUs: sorted[0], medianUs: sorted[sorted.length >> 1], maxUs: sorted[sorted.length - 1] };
  });
  results[machine] = { timerMode, delays: rows, idle100msHalts: halts };
  console.log(`${machine} (APIC timer ${timerMode}):`);
  for (const r of rows) console.log(`  setTimeout ${r.requestedUs} us -> median ${r.medianUs} us (min ${r.minUs}, max ${r.maxUs}, late by ${r.medianUs - r.requestedUs} us)`);
  console.log(`  idle 100 ms with one timer: halts ${halts.join(", ")}`);
}
mkdirSync("bench/results", { recursive: true });
writeFileSync("bench/results/timers.json", JSON.stringify(results, null, 2) + "\n");
