/**
 * `npm run bench [-- <suite> ...]`: measures and records figures (never asserted in tests).
 * Suites: boot (image build time, image sizes, QEMU start -> greeting, guest stub -> _start).
 * Results are printed and written to bench/results/<suite>.json.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runQemu, type QemuOptions } from "../qemu/runner.ts";

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
  const b = spawnSync("npx", ["tsx", "tools/cli/image.ts", "--app", "apps/hello", "--out", out], { encoding: "utf8" });
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
  return result;
}

async function main(argv: string[]): Promise<number> {
  const suites = argv.filter((a) => !a.startsWith("-"));
  const runsArg = argv.find((a) => a.startsWith("--runs="));
  const runs = runsArg ? Number(runsArg.slice(7)) : 5;
  const known = ["boot"];
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
    const r = await benchBoot(runs);
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
