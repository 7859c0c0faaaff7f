/**
 * `npm run bench [-- <suite> ...]`: measures and records figures (never asserted in tests).
 * Suites: boot (image build time, image sizes, QEMU start -> greeting, guest stub -> _start),
 * heap (in-guest TLSF heap stress: random alloc/free operations per second, kernel/runtime/stress.ts),
 * timers (tools/cli/bench-timers.ts: event-loop timer precision and idle wake-ups, pc and microvm),
 * translator (tools/bench/translator.ts: eight kernels as hosted AOT vs V8 vs gcc -O2),
 * translate-speed (tools/bench/translate-speed.ts: MB of wasm per second through read + validate +
 * translate + link, on the largest modules we build, both translator tiers),
 * quick-code (tools/bench/quick-code.ts: the eight kernels through the quick tier vs V8 Liftoff),
 * udp (tools/bench/udp.ts: UDP echo pps and RTT over a tap, unikernel vs a Linux guest, both under
 * TCG; needs root; also writes bench/results/udp.svg; `--seconds=N` per sample, `--elf=PATH` to
 * use a prebuilt apps/udp-echo image).
 * Results are printed and written to bench/results/<suite>.json.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runQemu, type QemuOptions } from "../qemu/runner.ts";
import { compileKernelApp } from "../build/compile.ts";
import { readModule } from "../wasm/reader.ts";
import { validateModule } from "../wasm/validate.ts";
import { linkImage } from "../link/image.ts";
import { benchTranslator } from "../bench/translator.ts";
import { benchQuickCode } from "../bench/quick-code.ts";
import { benchTranslateSpeed } from "../bench/translate-speed.ts";
import { benchUdp, renderSvg as renderUdpSvg } from "../bench/udp.ts";
import { nodeTs } from "../loader/node.ts";

const GREETING = "Hello from TypeScript on bare metal!";
const RESULTS = "bench/results";

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

async function bootOnce(opts: Omit<QemuOptions, "timeoutMs" | "onSerial">): Promise<{ greetingMs: number; stubToStartUs: number; tscMHz: number }> {
  const t0 = performance.now();
  let greetingMs = NaN;
  let seen = "";
  const r = await runQemu({
    ...opts, timeoutMs: 30_000,
    onSerial: (t) => {
      seen += t;
      if (Number.isNaN(greetingMs) && seen.includes(GREETING)) greetingMs = performance.now() - t0;
    },
  });
  if (r.status !== 0 || Number.isNaN(greetingMs)) throw new Error(`boot failed (status ${r.status}):\n${r.serial}\n${r.stderr}`);
  const m = /TSC (\d+) MHz, (\d+) us from stub to _start/.exec(r.serial);
  return { greetingMs, stubToStartUs: m ? Number(m[2]) : NaN, tscMHz: m ? Number(m[1]) : NaN };
}

async function benchBoot(runs: number): Promise<Record<string, unknown>> {
  const out = "build/bench";
  const t = performance.now();
  const b = spawnSync(...nodeTs("tools/cli/image.ts", "--app", "apps/hello", "--out", out), { encoding: "utf8" });
  const imageMs = performance.now() - t;
  if (b.status !== 0) throw new Error(`npm run image failed:\n${b.stderr}`);
  const elf = join(out, "hello.elf"), iso = join(out, "hello.iso");
  const result: Record<string, unknown> = {
    date: new Date().toISOString(),
    host: "2 cores, QEMU TCG (-accel tcg -cpu max), no KVM",
    imageBuildMs: Math.round(imageMs),
    elfBytes: statSync(elf).size,
    isoBytes: statSync(iso).size,
    runs,
    boots: {} as Record<string, unknown>,
  };
  const targets: [string, Omit<QemuOptions, "timeoutMs" | "onSerial">][] = [
    ["pvh-microvm", { kernel: elf, machine: "microvm" }],
    ["pvh-pc", { kernel: elf, machine: "pc" }],
    ["iso-pc (SeaBIOS)", { cdrom: iso, machine: "pc" }],
  ];
  for (const [name, opts] of targets) {
    const samples = [];
    for (let i = 0; i < runs; i++) samples.push(await bootOnce(opts));
    (result.boots as Record<string, unknown>)[name] = {
      qemuStartToGreetingMsMedian: Math.round(median(samples.map((s) => s.greetingMs))),
      stubToStartUsMedian: median(samples.map((s) => s.stubToStartUs)),
      tscMHz: samples[0].tscMHz,
    };
  }
  // Smallest guest RAM (-m, whole MiB) with which hello still boots and greets (PVH, microvm).
  let smallest: string | null = null;
  for (const m of ["8M", "7M", "6M", "5M", "4M", "3M"]) {
    const r = await runQemu({ kernel: elf, machine: "microvm", memory: m, timeoutMs: 30_000 });
    if (r.status !== 0 || !r.serial.includes(GREETING)) break;
    smallest = m;
  }
  result.smallestMemoryPvhMicrovm = smallest;
  return result;
}

/** The in-guest stress of kernel/runtime/stress.ts (same app as test/kernel-memory). */
const HEAP_OPS = 1_000_000;
const HEAP_APP = `import { heapStress } from "../../../kernel/runtime/stress";
import { exit } from "../../../kernel/arch/x86_64/debug_exit";
export function main(): void { if (!heapStress(${HEAP_OPS}, 0x2545f491)) exit(1); }
`;

/**
 * heap: boots the stress image (PVH, microvm) and records heap operations per second as measured by
 * the guest's TSC around the random alloc/free loop (fill + verify of every block included).
 */
async function benchHeap(runs: number): Promise<Record<string, unknown>> {
  const dir = "build/bench/heapstress";
  const compiled = await compileKernelApp(dir, { files: { [`${dir}/main.ts`]: HEAP_APP } });
  const mod = readModule(compiled.wasm);
  validateModule(mod);
  mkdirSync(dir, { recursive: true });
  const elf = join(dir, "heapstress.elf");
  writeFileSync(elf, linkImage({ kernel: mod, bios: false }).elf);
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const r = await runQemu({ kernel: elf, machine: "microvm", timeoutMs: 120_000 });
    const m = /heap bench: (\d+) ops in (\d+) us = (\d+) ops\/s/.exec(r.serial);
    if (r.status !== 0 || !m) throw new Error(`heap stress failed (status ${r.status}):\n${r.serial}\n${r.stderr}`);
    samples.push(Number(m[3]));
  }
  return {
    date: new Date().toISOString(),
    host: "2 cores, QEMU TCG (-accel tcg -cpu max), no KVM",
    what: `${HEAP_OPS} random heap alloc/free ops (85% <= 128 B, 13% <= 1 KiB, 2% <= 8 KiB), each block filled and verified`,
    runs,
    opsPerSecondMedian: Math.round(median(samples)),
    opsPerSecond: samples,
  };
}

async function main(argv: string[]): Promise<number> {
  const suites = argv.filter((a) => !a.startsWith("-"));
  const runsArg = argv.find((a) => a.startsWith("--runs="));
  const runs = runsArg ? Number(runsArg.slice(7)) : 5;
  const known = ["boot", "heap", "timers", "translator", "translate-speed", "quick-code", "udp"];
  const chosen = suites.length ? suites : known;
  for (const s of chosen) {
    if (!known.includes(s)) {
      console.error(`unknown benchmark suite: ${s} (known: ${known.join(", ")})`);
      return 2;
    }
  }
  mkdirSync(RESULTS, { recursive: true });
  for (const s of chosen) {
    console.error(`bench ${s} (${runs} runs per target) ...`);
    if (s === "timers") {
      // Its own script (it builds the event-loop test image); writes bench/results/timers.json.
      const t = spawnSync(...nodeTs("tools/cli/bench-timers.ts", String(runs)), { stdio: "inherit" });
      if (t.status !== 0) return t.status ?? 1;
      continue;
    }
    const option = (name: string) => argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
    const r = s === "heap" ? await benchHeap(runs) : s === "translator" ? await benchTranslator((l) => console.error(l), runsArg ? runs : 5)
      : s === "translate-speed" ? await benchTranslateSpeed(runs, (l) => console.error(l))
      : s === "quick-code" ? await benchQuickCode((l) => console.error(l), runsArg ? runs : 5)
      : s === "udp" ? await benchUdp({ runs, seconds: option("seconds") ? Number(option("seconds")) : undefined, elf: option("elf"), log: (l) => console.error(l) })
      : await benchBoot(runs);
    if (s === "udp") writeFileSync(join(RESULTS, "udp.svg"), renderUdpSvg(r));
    const file = join(RESULTS, `${s}.json`);
    writeFileSync(file, JSON.stringify(r, null, 2) + "\n");
    console.log(JSON.stringify(r, null, 2));
    console.error(`wrote ${file}`);
  }
  return 0;
}

main(process.argv.slice(2)).then((c) => process.exit(c), (e) => {
  console.error(e instanceof Error ? e.stack ?? e.message : e);
  process.exit(1);
});
