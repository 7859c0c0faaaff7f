/**
 * `npm run bench -- udp`: UDP echo over a tap device, our unikernel (apps/udp-echo) against a
 * Linux guest (Debian's cloud kernel + busybox initramfs + a static C echo server, built by
 * bench/linux-guest/build.ts), booted one after the other with identical QEMU settings:
 *   -machine pc -accel tcg -cpu max -m 128M, one virtio-net-pci NIC on `-netdev tap`,
 * the tap inside a private network namespace (tools/qemu/netns.ts), never `-netdev user`.
 * Everything runs under TCG emulation (no KVM): figures say how the two guests compare on the
 * same emulated machine, not what either does on hardware.
 *
 * Load generator: tools/bench/udp_load.c (built with host gcc), run inside the namespace. Per
 * guest and payload size (64 and 1400 bytes) it measures, after a warm-up:
 *   - closed loop, window 1: unloaded round-trip time (p50, p99) and the rate it allows;
 *   - open loop at a fixed offered rate (OFFERED_PPS): RTT at equal, light load;
 *   - closed loop, windows 16 and 64: saturated rate (echoes per second) and RTT under load.
 * Throughput is the window-64 figure. The client's own CPU use and QEMU's (from /proc) are kept
 * with each sample, and a loopback run (client + the same echo server, both on the host, no guest)
 * gives the client's ceiling, to show that the guest and not the client is the bottleneck.
 * Each round boots both guests (alternating which goes first, against drift in the shared
 * machine's load); figures are medians over the rounds.
 *
 * Results: bench/results/udp.json and the chart bench/results/udp.svg.
 */
import { execFile, spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { buildLinuxGuest, LINUX_APPEND, LINUX_READY } from "../../bench/linux-guest/build.ts";
import { buildAppImage } from "../link/build.ts";
import { createTapNamespace, netnsUnavailableReason, spawnQemuInNetns, tapNicArgs, type TapNamespace } from "../qemu/netns.ts";
import type { QemuOptions } from "../qemu/runner.ts";

const HERE = dirname(fileURLToPath(import.meta.url));
const run = promisify(execFile);

const GUEST_ADDR = "10.0.2.15";
const ECHO_PORT = 7;
/** QEMU settings shared by both guests (besides the NIC). */
const MACHINE: Pick<QemuOptions, "machine" | "memory" | "cpu"> = { machine: "pc", memory: "128M", cpu: "max" };
export const PAYLOADS = [64, 1400];
/** Fixed offered rate of the open-loop latency run: well below what either guest sustains. */
const OFFERED_PPS = 2000;
const WORK = "build/bench/udp";

/** One load-generator run, as udp_load prints it. */
export interface LoadSample {
  payloadBytes: number;
  window: number; // 0 for open loop
  offeredPps: number; // 0 for closed loop
  seconds: number;
  sent: number;
  received: number;
  lost: number;
  corrupt: number;
  sendErrors: number;
  pps: number;
  clientCpuCores: number;
  rttUs: { min: number; p50: number; p90: number; p99: number; max: number };
  qemuCpuCores?: number; // QEMU's CPU use over the run (all its threads)
}

export interface Mode {
  name: string;
  window: number;
  ratePps: number;
}

export const MODES: Mode[] = [
  { name: "window 1 (unloaded RTT)", window: 1, ratePps: 0 },
  { name: `open loop ${OFFERED_PPS} pps`, window: 1, ratePps: OFFERED_PPS },
  { name: "window 16", window: 16, ratePps: 0 },
  { name: "window 64 (throughput)", window: 64, ratePps: 0 },
];

export interface UdpBenchOptions {
  runs: number; // rounds; each boots both guests
  seconds?: number; // measured seconds per sample (default 3)
  warmup?: number; // warm-up seconds per sample (default 0.5)
  elf?: string; // prebuilt apps/udp-echo ELF instead of building it
  log?: (s: string) => void;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** User + system CPU seconds of process `pid` so far (all threads), from /proc/<pid>/stat. */
function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in USER_HZ (100)
  } catch {
    return NaN;
  }
}

async function load(ns: TapNamespace, client: string, addr: string, payload: number, mode: Mode, seconds: number, warmup: number, qemuPid?: number): Promise<LoadSample> {
  const args = [addr, String(ECHO_PORT), String(payload), String(mode.window), String(seconds), String(warmup)];
  if (mode.ratePps > 0) args.push(String(mode.ratePps));
  const argv = ns.argv(client, args);
  const cpu0 = qemuPid === undefined ? 0 : cpuSeconds(qemuPid);
  const t0 = performance.now();
  const { stdout } = await run(argv[0], argv.slice(1), { timeout: (seconds + warmup + 10) * 1000, killSignal: "SIGKILL" });
  const sample = JSON.parse(stdout) as LoadSample;
  if (qemuPid !== undefined) sample.qemuCpuCores = Number(((cpuSeconds(qemuPid) - cpu0) / ((performance.now() - t0) / 1000)).toFixed(2));
  return sample;
}

interface Guest {
  name: "unikernel" | "linux";
  describe: string;
  opts: QemuOptions;
  ready: string;
  /** Ends the guest; resolves when QEMU is gone. */
  stop(ns: TapNamespace, q: ReturnType<typeof spawnQemuInNetns>): Promise<void>;
}

async function measureGuest(ns: TapNamespace, client: string, guest: Guest, seconds: number, warmup: number, log: (s: string) => void): Promise<Record<number, LoadSample[]>> {
  let serial = "";
  let ready!: () => void;
  const isReady = new Promise<void>((resolve) => (ready = resolve));
  const q = spawnQemuInNetns(ns, {
    ...guest.opts,
    onSerial: (t) => {
      serial += t;
      if (serial.includes(guest.ready)) ready();
    },
  });
  const failed = q.result.then((r) => {
    throw new Error(`${guest.name} guest ended before it was ready (status ${r.status}):\n${r.serial}\n${r.stderr}`);
  });
  failed.catch(() => {}); // handled through the race below
  try {
    await Promise.race([isReady, failed]);
    // answer ARP once before measuring (the first datagram waits for it)
    await load(ns, client, GUEST_ADDR, 64, MODES[0], 0.5, 0.2);
    const out: Record<number, LoadSample[]> = {};
    for (const payload of PAYLOADS) {
      out[payload] = [];
      for (const mode of MODES) {
        const s = await load(ns, client, GUEST_ADDR, payload, mode, seconds, warmup, q.pid);
        log(`  ${guest.name} ${payload} B, ${mode.name}: ${Math.round(s.pps)} pps, RTT p50 ${s.rttUs.p50} us p99 ${s.rttUs.p99} us, lost ${s.lost}, QEMU ${s.qemuCpuCores} cores, client ${s.clientCpuCores} cores`);
        out[payload].push(s);
      }
    }
    await guest.stop(ns, q);
    return out;
  } finally {
    q.stop();
    await q.result;
  }
}

/** Client ceiling: the load generator against the same C echo server on the namespace's loopback. */
async function clientCeiling(ns: TapNamespace, client: string, server: string, seconds: number, warmup: number): Promise<LoadSample[]> {
  const argv = ns.argv(server);
  const child = spawn(argv[0], argv.slice(1), { stdio: ["ignore", "pipe", "ignore"], detached: true });
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on("data", () => resolve());
      child.on("exit", () => reject(new Error("loopback echo server exited")));
      setTimeout(() => reject(new Error("loopback echo server did not start")), 5_000);
    });
    const out = [];
    for (const payload of PAYLOADS) out.push(await load(ns, client, "127.0.0.1", payload, MODES[3], seconds, warmup));
    return out;
  } finally {
    try {
      process.kill(-child.pid!, "SIGKILL");
    } catch {
      // gone
    }
  }
}

type Figures = { pps: number; rttP50Us: number; rttP99Us: number; lost: number; qemuCpuCores: number; clientCpuCores: number };

function summarise(samples: LoadSample[]): Figures {
  const m = (f: (s: LoadSample) => number) => Number(median(samples.map(f)).toFixed(1));
  return {
    pps: Math.round(median(samples.map((s) => s.pps))),
    rttP50Us: m((s) => s.rttUs.p50),
    rttP99Us: m((s) => s.rttUs.p99),
    lost: Math.round(median(samples.map((s) => s.lost))),
    qemuCpuCores: Number(median(samples.map((s) => s.qemuCpuCores ?? NaN)).toFixed(2)),
    clientCpuCores: Number(median(samples.map((s) => s.clientCpuCores)).toFixed(2)),
  };
}

export async function benchUdp(o: UdpBenchOptions): Promise<Record<string, unknown>> {
  const log = o.log ?? (() => {});
  const seconds = o.seconds ?? 3;
  const warmup = o.warmup ?? 0.5;
  const why = netnsUnavailableReason();
  if (why !== null) throw new Error(`bench udp needs a network namespace and a tap device: ${why}`);
  mkdirSync(WORK, { recursive: true });

  let elf = o.elf;
  if (elf === undefined) {
    log("building apps/udp-echo ...");
    elf = join(WORK, "udp-echo.elf");
    writeFileSync(elf, (await buildAppImage("apps/udp-echo")).elf);
  }
  log("building the Linux guest (apt-get download on first use) ...");
  const linux = buildLinuxGuest("build/linux-guest", log);
  const client = join(WORK, "udp_load");
  await run("gcc", ["-O2", "-Wall", "-o", client, join(HERE, "udp_load.c")]);

  let unikernelReport: string[] = [];
  const guests: Guest[] = [
    {
      name: "unikernel",
      describe: "apps/udp-echo (PVH ELF; virtio-net, event loop polling while busy, MSI-X + hlt when idle)",
      opts: { kernel: elf, ...MACHINE, timeoutMs: 600_000, extraArgs: [] },
      ready: "udp-echo: listening",
      stop: async (ns, q) => {
        ns.run("nc", ["-u", "-w", "1", GUEST_ADDR, String(ECHO_PORT)], { input: "quit", timeoutMs: 5_000 });
        const r = await Promise.race([q.result, new Promise<null>((r) => setTimeout(r, 5_000, null))]);
        if (r === null) log("  unikernel did not quit on request; killed");
        // its counters at "quit" (drops, interrupts, polls, halts, pool use), from the last round
        else unikernelReport = r.serial.split("\n").filter((l) => /^(udp-echo: (stats|memory|pool|echoed)|net: )/.test(l)).map((l) => l.trim());
      },
    },
    {
      name: "linux",
      describe: `${linux.kernelPackage} + ${linux.busyboxPackage} initramfs, static C echo server (recvfrom/sendto loop)`,
      opts: { kernel: linux.kernel, ...MACHINE, timeoutMs: 600_000, extraArgs: ["-initrd", linux.initrd], append: LINUX_APPEND },
      ready: LINUX_READY,
      stop: async () => {}, // runs forever: killed by measureGuest
    },
  ];

  const ns = createTapNamespace("udpbench");
  const perGuest: Record<string, Record<number, LoadSample[][]>> = { unikernel: {}, linux: {} };
  let ceiling: LoadSample[] = [];
  const hostLoad: string[] = []; // 1-minute load average as each guest starts: other work shares the cores
  try {
    for (const g of guests) g.opts.extraArgs = [...g.opts.extraArgs!, ...tapNicArgs(ns)];
    log("client ceiling (loopback, no guest) ...");
    ceiling = await clientCeiling(ns, client, join("build/linux-guest", "udp_echo_server"), seconds, warmup);
    for (let round = 0; round < o.runs; round++) {
      const order = round % 2 === 0 ? guests : [...guests].reverse();
      for (const g of order) {
        hostLoad.push(`${g.name} round ${round + 1}: ${loadavg()[0].toFixed(2)}`);
        log(`round ${round + 1}/${o.runs}: ${g.name} (host load average ${loadavg()[0].toFixed(2)})`);
        const r = await measureGuest(ns, client, g, seconds, warmup, log);
        for (const p of PAYLOADS) (perGuest[g.name][p] ??= []).push(r[p]);
      }
    }
  } finally {
    ns.destroy();
  }

  // figures[guest][payload][mode] = medians over the rounds
  const figures: Record<string, Record<string, Record<string, Figures>>> = {};
  for (const g of guests) {
    figures[g.name] = {};
    for (const p of PAYLOADS) {
      figures[g.name][`${p}B`] = {};
      MODES.forEach((m, i) => {
        figures[g.name][`${p}B`][m.name] = summarise(perGuest[g.name][p].map((round) => round[i]));
      });
    }
  }
  const thr = MODES[3].name, lat = MODES[0].name, fixed = MODES[1].name;
  const comparison: Record<string, unknown> = {};
  let goalMet = true;
  for (const p of PAYLOADS) {
    const u = figures.unikernel[`${p}B`], l = figures.linux[`${p}B`];
    const ppsRatio = u[thr].pps / l[thr].pps;
    const lowerP99 = u[lat].rttP99Us < l[lat].rttP99Us && u[thr].rttP99Us < l[thr].rttP99Us && u[fixed].rttP99Us < l[fixed].rttP99Us;
    goalMet &&= ppsRatio >= 2 && lowerP99;
    comparison[`${p}B`] = {
      throughputPpsUnikernel: u[thr].pps,
      throughputPpsLinux: l[thr].pps,
      ppsRatio: Number(ppsRatio.toFixed(2)),
      unloadedRttP50UsUnikernel: u[lat].rttP50Us,
      unloadedRttP50UsLinux: l[lat].rttP50Us,
      unloadedRttP99UsUnikernel: u[lat].rttP99Us,
      unloadedRttP99UsLinux: l[lat].rttP99Us,
      fixedRateRttP99UsUnikernel: u[fixed].rttP99Us,
      fixedRateRttP99UsLinux: l[fixed].rttP99Us,
      loadedRttP99UsUnikernel: u[thr].rttP99Us,
      loadedRttP99UsLinux: l[thr].rttP99Us,
      unikernelP99LowerInAllModes: lowerP99,
    };
  }
  const result = {
    date: new Date().toISOString(),
    host: "2 cores shared with other work, QEMU TCG (-accel tcg -cpu max), no KVM: every figure is under emulation",
    qemu: `-machine pc -accel tcg -cpu max -m 128M -nodefaults, -netdev tap (in a private network namespace) + -device virtio-net-pci`,
    guests: Object.fromEntries(guests.map((g) => [g.name, g.describe])),
    method:
      `udp_load (C, host side of the tap, same namespace) per payload: closed loop with window 1 (unloaded RTT), open loop at ${OFFERED_PPS} pps, ` +
      `closed loop windows 16 and 64 (throughput = window 64 echoes/s); ${seconds} s measured after ${warmup} s warm-up; ` +
      `${o.runs} rounds, each booting both guests (order alternating); medians over rounds. pps counts echoes received.`,
    goal: "unikernel >= 2x Linux's packets per second, with lower p99 latency",
    goalMet,
    comparison,
    hostLoadAverage1m: hostLoad,
    clientCeilingLoopback: ceiling.map((s) => ({ payloadBytes: s.payloadBytes, window: s.window, pps: Math.round(s.pps), clientCpuCores: s.clientCpuCores })),
    figures,
    unikernelCountersLastRound: unikernelReport,
    samples: perGuest,
  };
  return result;
}

/** Grouped bar chart: throughput (left) and unloaded / loaded p99 RTT (right), per payload. */
export function renderSvg(result: Record<string, unknown>): string {
  const cmp = result.comparison as Record<string, Record<string, number>>;
  const W = 960, H = 440, top = 70, plotH = 280, colours = { unikernel: "#2b7bb9", linux: "#e08a2c" };
  const parts: string[] = [];
  const text = (x: number, y: number, s: string, extra = "") => parts.push(`<text x="${x}" y="${y}" ${extra}>${s}</text>`);
  const panel = (x0: number, title: string, groups: { label: string; u: number; l: number }[], unit: string) => {
    const max = Math.max(...groups.flatMap((g) => [g.u, g.l])) * 1.15;
    const width = 400, gw = width / groups.length, bw = gw / 3.2;
    text(x0 + width / 2, top - 30, title, 'text-anchor="middle" font-weight="bold"');
    parts.push(`<line x1="${x0}" y1="${top + plotH}" x2="${x0 + width}" y2="${top + plotH}" stroke="#333"/>`);
    groups.forEach((g, i) => {
      const gx = x0 + i * gw + gw / 2;
      ([["unikernel", g.u, -1], ["linux", g.l, 0]] as const).forEach(([name, v, off]) => {
        const h = (v / max) * plotH;
        const bx = off === -1 ? gx - bw - 2 : gx + 2; // unikernel left of the group's centre
        parts.push(`<rect x="${bx.toFixed(1)}" y="${(top + plotH - h).toFixed(1)}" width="${bw.toFixed(1)}" height="${h.toFixed(1)}" fill="${colours[name]}"><title>${name}: ${v} ${unit}</title></rect>`);
        text(bx + bw / 2, top + plotH - h - 5, `${Math.round(v).toLocaleString("en-US")}`, 'text-anchor="middle" font-size="11"');
      });
      text(gx, top + plotH + 18, g.label, 'text-anchor="middle" font-size="12"');
    });
  };
  parts.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  text(W / 2, 22, "UDP echo over tap, QEMU TCG emulation (-accel tcg -cpu max, 1 vCPU, virtio-net-pci): unikernel vs Linux guest", 'text-anchor="middle" font-size="14" font-weight="bold"');
  panel(50, "Throughput, echoes/s (closed loop, 64 outstanding)",
    PAYLOADS.map((p) => ({ label: `${p}-byte payload`, u: cmp[`${p}B`].throughputPpsUnikernel, l: cmp[`${p}B`].throughputPpsLinux })), "pps");
  panel(520, "Round-trip time p99, µs (lower is better)",
    PAYLOADS.flatMap((p) => [
      { label: `${p} B unloaded`, u: cmp[`${p}B`].unloadedRttP99UsUnikernel, l: cmp[`${p}B`].unloadedRttP99UsLinux },
      { label: `${p} B, 64 out`, u: cmp[`${p}B`].loadedRttP99UsUnikernel, l: cmp[`${p}B`].loadedRttP99UsLinux },
    ]), "us");
  parts.push(`<rect x="340" y="${H - 34}" width="14" height="14" fill="${colours.unikernel}"/>`);
  text(360, H - 22, "unikernel (apps/udp-echo)", 'font-size="12"');
  parts.push(`<rect x="540" y="${H - 34}" width="14" height="14" fill="${colours.linux}"/>`);
  text(560, H - 22, "Linux 6.1 (Debian cloud kernel) + busybox", 'font-size="12"');
  const loads = ((result.hostLoadAverage1m as string[] | undefined) ?? []).map((l) => Number(l.split(": ").pop()));
  const loadNote = loads.length ? `; host load average ${Math.min(...loads).toFixed(1)}-${Math.max(...loads).toFixed(1)} on 2 shared cores` : "";
  text(W / 2, H - 4, `medians of ${String((result.method as string).match(/(\d+) rounds/)?.[1] ?? "?")} rounds, ${String(result.date).slice(0, 10)}${loadNote}; goal (≥2x pps, lower p99) met: ${result.goalMet ? "yes" : "no"}`, 'text-anchor="middle" font-size="11" fill="#555"');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif">\n${parts.join("\n")}\n</svg>\n`;
}
