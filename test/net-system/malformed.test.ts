/**
 * Malformed frames against apps/udp-echo, through a raw-frame harness: QEMU's
 * `-netdev dgram` (local/remote UDP on 127.0.0.1) carries whole Ethernet frames, one per
 * datagram, so a Node dgram socket injects and reads frames without privileges.
 *
 * The harness sends 100,000 frames, each broken in one way that maps to exactly one of the stack's
 * receive drop reasons (net/stats.ts), plus random garbage; every 100 frames it sends an ICMP echo
 * request and waits for the reply, which (frames are processed in order) also paces the sender so
 * nothing is lost on the host socket. Afterwards the guest must still answer ARP and ping, and its
 * "stats" block must show the drop counters per reason equal to what was sent.
 * The address comes from the PVH command line (`ip=... gw=...`).
 */
import { createSocket, type Socket } from "node:dgram";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { buildAppImage } from "../../tools/link/build.ts";
import { runQemu } from "../../tools/qemu/runner.ts";

const GUEST_MAC = Buffer.from([0x52, 0x54, 0x00, 0x12, 0x34, 0x56]);
const HOST_MAC = Buffer.from([0x02, 0x00, 0x00, 0x00, 0x00, 0x01]);
const OTHER_MAC = Buffer.from([0x02, 0x11, 0x22, 0x33, 0x44, 0x55]);
const BROADCAST_MAC = Buffer.alloc(6, 0xff);
const GUEST_IP = [10, 9, 0, 2];
const HOST_IP = [10, 9, 0, 1];
/** Frames that each break one rule; then random garbage (some reason, never accepted). */
const CATEGORISED = 90_000;
const RANDOM = 10_000;
const BATCH = 100;

let elf = "";
beforeAll(async () => {
  const img = await buildAppImage("apps/udp-echo");
  elf = join(mkdtempSync(join(tmpdir(), "malformed-")), "udp-echo.elf");
  writeFileSync(elf, img.elf);
}, 120_000);

// ---- frame builders (RFC 894 / 826 / 791 / 792 / 768) ----

function checksum(b: Buffer): number {
  let sum = 0;
  for (let i = 0; i + 1 < b.length; i += 2) sum += b.readUInt16BE(i);
  if (b.length & 1) sum += b[b.length - 1] << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

function eth(dst: Buffer, type: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(14);
  dst.copy(h, 0);
  HOST_MAC.copy(h, 6);
  h.writeUInt16BE(type, 12);
  return Buffer.concat([h, payload]);
}

function arp(op: number, spa: number[], tpa: number[], sha = HOST_MAC): Buffer {
  const a = Buffer.alloc(28);
  a.writeUInt16BE(1, 0); // Ethernet
  a.writeUInt16BE(0x0800, 2); // IPv4
  a[4] = 6;
  a[5] = 4;
  a.writeUInt16BE(op, 6);
  sha.copy(a, 8);
  Buffer.from(spa).copy(a, 14);
  Buffer.from(tpa).copy(a, 24);
  return a;
}

interface IpOpts { src?: number[]; dst?: number[]; proto?: number; flags?: number; version?: number; ihl?: number; totalLen?: number; badSum?: boolean }

function ipv4(payload: Buffer, o: IpOpts = {}): Buffer {
  const h = Buffer.alloc(20);
  h[0] = ((o.version ?? 4) << 4) | (o.ihl ?? 5);
  h.writeUInt16BE(o.totalLen ?? 20 + payload.length, 2);
  h.writeUInt16BE(0x1234, 4);
  h.writeUInt16BE(o.flags ?? 0, 6);
  h[8] = 64;
  h[9] = o.proto ?? 1;
  Buffer.from(o.src ?? HOST_IP).copy(h, 12);
  Buffer.from(o.dst ?? GUEST_IP).copy(h, 16);
  h.writeUInt16BE(checksum(h) ^ (o.badSum ? 0x5555 : 0), 10);
  return Buffer.concat([h, payload]);
}

function icmp(type: number, id: number, seq: number, data: Buffer, badSum = false): Buffer {
  const m = Buffer.alloc(8);
  m[0] = type;
  m.writeUInt16BE(id, 4);
  m.writeUInt16BE(seq, 6);
  const b = Buffer.concat([m, data]);
  b.writeUInt16BE(checksum(b) ^ (badSum ? 0x00ff : 0), 2);
  return b;
}

function udp(dstPort: number, data: Buffer, o: { badSum?: boolean; lenField?: number } = {}): Buffer {
  const u = Buffer.alloc(8);
  u.writeUInt16BE(40000, 0);
  u.writeUInt16BE(dstPort, 2);
  u.writeUInt16BE(o.lenField ?? 8 + data.length, 4);
  const b = Buffer.concat([u, data]);
  const pseudo = Buffer.alloc(12);
  Buffer.from(HOST_IP).copy(pseudo, 0);
  Buffer.from(GUEST_IP).copy(pseudo, 4);
  pseudo[9] = 17;
  pseudo.writeUInt16BE(b.length, 10);
  const sum = checksum(Buffer.concat([pseudo, b])) || 0xffff;
  let bad = sum ^ 0x0f0f;
  if (bad === 0) bad = sum ^ 0x00f0; // 0 would mean "no checksum" (RFC 768)
  b.writeUInt16BE(o.badSum ? bad : sum, 6);
  return b;
}

const ping = (seq: number) => eth(GUEST_MAC, 0x0800, ipv4(icmp(8, 0x7e57, seq, Buffer.from("raw-frame harness"))));

/** A seeded generator (mulberry32), so a failure can be replayed. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Each category: the drop reason (net/stats.ts dropName) it must end in, and a frame maker. */
function categories(rand: () => number): Array<{ reason: string; make: () => Buffer }> {
  const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => Math.floor(rand() * 256)));
  const data = () => bytes(Math.floor(rand() * 64));
  const echo = () => icmp(8, 1, 1, data());
  return [
    { reason: "eth_truncated", make: () => bytes(1 + Math.floor(rand() * 13)) },
    { reason: "eth_not_for_us", make: () => eth(OTHER_MAC, 0x0800, ipv4(echo())) },
    { reason: "eth_unknown_type", make: () => eth(GUEST_MAC, [0x86dd, 0x88cc, 0x8100, 0x0000, 0xffff][Math.floor(rand() * 5)], data()) },
    { reason: "arp_malformed", make: () => eth(BROADCAST_MAC, 0x0806, arp(1, HOST_IP, GUEST_IP).subarray(0, Math.floor(rand() * 28))) },
    { reason: "arp_malformed", make: () => eth(BROADCAST_MAC, 0x0806, arp(1, HOST_IP, GUEST_IP, BROADCAST_MAC)) },
    { reason: "arp_unknown_op", make: () => eth(BROADCAST_MAC, 0x0806, arp(3 + Math.floor(rand() * 100), HOST_IP, GUEST_IP)) },
    { reason: "arp_not_for_us", make: () => eth(BROADCAST_MAC, 0x0806, arp(1, [10, 9, 0, 100 + Math.floor(rand() * 100)], [10, 9, 0, 77])) },
    { reason: "ipv4_malformed", make: () => eth(GUEST_MAC, 0x0800, ipv4(echo(), { version: 6 })) },
    { reason: "ipv4_malformed", make: () => eth(GUEST_MAC, 0x0800, ipv4(echo(), { ihl: Math.floor(rand() * 5) })) },
    { reason: "ipv4_malformed", make: () => eth(GUEST_MAC, 0x0800, ipv4(echo(), { totalLen: 200 + Math.floor(rand() * 1000) })) },
    { reason: "ipv4_malformed", make: () => eth(GUEST_MAC, 0x0800, ipv4(echo()).subarray(0, Math.floor(rand() * 20))) },
    { reason: "ipv4_bad_checksum", make: () => eth(GUEST_MAC, 0x0800, ipv4(echo(), { badSum: true })) },
    { reason: "ipv4_bad_src", make: () => eth(GUEST_MAC, 0x0800, ipv4(echo(), { src: [[255, 255, 255, 255], [224, 0, 0, 1], [127, 0, 0, 1], [10, 9, 0, 255]][Math.floor(rand() * 4)] })) },
    { reason: "ipv4_not_for_us", make: () => eth(GUEST_MAC, 0x0800, ipv4(echo(), { dst: [10, 9, 0, 99] })) },
    { reason: "ipv4_fragment", make: () => eth(GUEST_MAC, 0x0800, ipv4(echo(), { flags: rand() < 0.5 ? 0x2000 : 0x0010 })) },
    { reason: "ipv4_unknown_protocol", make: () => eth(GUEST_MAC, 0x0800, ipv4(data(), { proto: [6, 2, 47, 132][Math.floor(rand() * 4)] })) },
    { reason: "icmp_truncated", make: () => eth(GUEST_MAC, 0x0800, ipv4(bytes(Math.floor(rand() * 8)))) },
    { reason: "icmp_bad_checksum", make: () => eth(GUEST_MAC, 0x0800, ipv4(icmp(8, 2, 2, data(), true))) },
    { reason: "icmp_ignored", make: () => eth(GUEST_MAC, 0x0800, ipv4(icmp([0, 3, 11, 13][Math.floor(rand() * 4)], 3, 3, data()))) },
    { reason: "udp_malformed", make: () => eth(GUEST_MAC, 0x0800, ipv4(udp(7, data(), { lenField: rand() < 0.5 ? Math.floor(rand() * 8) : 2000 }), { proto: 17 })) },
    { reason: "udp_malformed", make: () => eth(GUEST_MAC, 0x0800, ipv4(bytes(Math.floor(rand() * 8)), { proto: 17 })) },
    { reason: "udp_bad_checksum", make: () => eth(GUEST_MAC, 0x0800, ipv4(udp(7, data(), { badSum: true }), { proto: 17 })) },
    { reason: "udp_no_socket", make: () => eth(GUEST_MAC, 0x0800, ipv4(udp(9999, data()), { proto: 17 })) },
  ];
}

class Harness {
  private waiters: Array<(f: Buffer) => boolean> = [];
  arpRequestsAnswered = 0;
  constructor(private sock: Socket, private guestPort: number) {
    sock.on("message", (f) => this.receive(f));
  }
  send(frame: Buffer): void {
    this.sock.send(frame, this.guestPort, "127.0.0.1");
  }
  private receive(f: Buffer): void {
    // Answer the guest's ARP requests for our address.
    if (f.length >= 42 && f.readUInt16BE(12) === 0x0806 && f.readUInt16BE(20) === 1 && f.subarray(38, 42).equals(Buffer.from(HOST_IP))) {
      this.arpRequestsAnswered++;
      this.send(eth(f.subarray(6, 12), 0x0806, arp(2, HOST_IP, [...f.subarray(28, 32)])));
    }
    this.waiters = this.waiters.filter((w) => !w(f));
  }
  /** Sends `frame` (again every `retryMs`) until a received frame satisfies `match`. */
  async request(frame: Buffer, match: (f: Buffer) => boolean, timeoutMs = 10_000, retryMs = 1_000): Promise<Buffer> {
    let resolve!: (f: Buffer) => void;
    const got = new Promise<Buffer>((r) => (resolve = r));
    this.waiters.push((f) => (match(f) ? (resolve(f), true) : false));
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      this.send(frame);
      const r = await Promise.race([got, new Promise<null>((r) => setTimeout(() => r(null), retryMs))]);
      if (r) return r;
    }
    throw new Error("no answer from the guest");
  }
}

const isEchoReply = (seq: number) => (f: Buffer) =>
  f.length >= 42 && f.readUInt16BE(12) === 0x0800 && f[23] === 1 && f[34] === 0 && f.readUInt16BE(38) === 0x7e57 && f.readUInt16BE(40) === seq;
const isArpReply = (f: Buffer) => f.length >= 42 && f.readUInt16BE(12) === 0x0806 && f.readUInt16BE(20) === 2 && f.subarray(28, 32).equals(Buffer.from(GUEST_IP));

async function bindLocal(): Promise<Socket> {
  const s = createSocket("udp4");
  await new Promise<void>((resolve) => s.bind(0, "127.0.0.1", resolve));
  return s;
}

describe("malformed frames", () => {
  it("survives 100,000 malformed frames, still answers ARP and ping, and counts every drop by reason", async () => {
    const sock = await bindLocal();
    const hostPort = sock.address().port;
    const probe = await bindLocal(); // reserve a port for QEMU's end, then hand it over
    const guestPort = probe.address().port;
    await new Promise<void>((r) => probe.close(() => r()));
    let serial = "";
    let listening!: () => void;
    const ready = new Promise<void>((resolve) => (listening = resolve));
    const run = runQemu({
      kernel: elf,
      machine: "pc",
      timeoutMs: 90_000,
      append: "ip=10.9.0.2/24 gw=10.9.0.1",
      extraArgs: [
        "-netdev", `dgram,id=n0,local.type=inet,local.host=127.0.0.1,local.port=${guestPort},remote.type=inet,remote.host=127.0.0.1,remote.port=${hostPort}`,
        "-device", "virtio-net-pci,netdev=n0,mac=52:54:00:12:34:56",
      ],
      onSerial: (t) => {
        serial += t;
        if (/udp-echo: listening[^\n]*\n/.test(serial)) listening();
      },
    });
    await Promise.race([ready, run]);
    expect(serial).toContain("udp-echo: listening on 10.9.0.2 port 7");
    const h = new Harness(sock, guestPort);

    // Before: ARP and ping work (the ARP request also teaches the guest our MAC).
    await h.request(eth(BROADCAST_MAC, 0x0806, arp(1, HOST_IP, GUEST_IP)), isArpReply);
    let seq = 1;
    await h.request(ping(seq), isEchoReply(seq));

    const rand = rng(0x5eed);
    const kinds = categories(rand);
    const sent = new Map<string, number>();
    const pace = async (i: number) => {
      if ((i + 1) % BATCH === 0) {
        seq++;
        await h.request(ping(seq), isEchoReply(seq), 10_000, 2_000);
      }
    };
    const statsFrame = eth(GUEST_MAC, 0x0800, ipv4(udp(7, Buffer.from("stats")), { proto: 17 }));
    /** The guest's `net:` counters, from the stats block its "stats" datagram prints. */
    const netCounters = async (): Promise<Record<string, number>> => {
      const blocks = serial.split("udp-echo: stats end").length;
      await h.request(statsFrame, (f) => f.length >= 47 && f[23] === 17 && f.subarray(42, 47).toString() === "stats");
      while (serial.split("udp-echo: stats end").length === blocks) await new Promise((r) => setTimeout(r, 20));
      const line = serial.split("udp-echo: stats end")[blocks - 1].split("\n").find((l) => l.startsWith("net: rx="))!;
      return Object.fromEntries([...line.matchAll(/(\w+)=(\d+)/g)].map(([, k, v]) => [k, Number(v)]));
    };
    const t0 = performance.now();
    const start = await netCounters();
    for (let i = 0; i < CATEGORISED; i++) {
      const k = kinds[Math.floor(rand() * kinds.length)];
      h.send(k.make());
      sent.set(k.reason, (sent.get(k.reason) ?? 0) + 1);
      await pace(i);
    }
    const middle = await netCounters();
    for (let i = 0; i < RANDOM; i++) {
      const n = 1 + Math.floor(rand() * 600);
      const f = Buffer.from(Array.from({ length: n }, () => Math.floor(rand() * 256)));
      if (n >= 6 && rand() < 0.5) GUEST_MAC.copy(f, 0); // half addressed to us, so they get past Ethernet
      h.send(f);
      await pace(i);
    }
    const end = await netCounters();
    const seconds = (performance.now() - t0) / 1000;

    // After: still answers ARP and ping.
    await h.request(eth(BROADCAST_MAC, 0x0806, arp(1, HOST_IP, GUEST_IP)), isArpReply);
    seq++;
    await h.request(ping(seq), isEchoReply(seq));
    const quitFrame = eth(GUEST_MAC, 0x0800, ipv4(udp(7, Buffer.from("quit")), { proto: 17 }));
    h.send(quitFrame);
    const timer = setInterval(() => h.send(quitFrame), 1_000);
    const r = await run;
    clearInterval(timer);
    sock.close();
    const report = r.serial + r.stderr;

    const receiveDrops = (c: Record<string, number>) =>
      Object.entries(c).filter(([k]) => !["rx", "accepted", "tx"].includes(k) && !k.startsWith("tx_") && k !== "arp_queue_full" && k !== "arp_timeout");
    const delta = (a: Record<string, number>, b: Record<string, number>, k: string) => (b[k] ?? 0) - (a[k] ?? 0);
    // Phase 1: each reason's counter grew by exactly the frames sent for it, no other reason grew.
    const expected = Object.fromEntries([...sent].sort());
    const got = Object.fromEntries(receiveDrops({ ...middle, ...start }).map(([k]) => k).concat([...sent.keys()])
      .filter((k, i, all) => all.indexOf(k) === i).sort().map((k) => [k, delta(start, middle, k)]).filter(([, v]) => v !== 0));
    expect(got, report).toEqual(expected);
    expect(Object.keys(expected).length).toBe(18); // every receive-side reason of net/stats.ts (1..18)
    // Phase 2: every random frame was received and dropped (for some reason), none accepted.
    const randomDrops = receiveDrops(end).reduce((a, [k]) => a + delta(middle, end, k), 0);
    expect(randomDrops, report).toBe(RANDOM);
    // Every frame accounted for: rx = accepted + receive drops (+ 1: the "stats" datagram being
    // processed while the block is printed is counted in rx but not yet as accepted).
    expect(end.rx, report).toBe(end.accepted + receiveDrops(end).reduce((a, [, v]) => a + v, 0) + 1);
    expect(r.status, report).toBe(0);
    console.log(`malformed: ${CATEGORISED + RANDOM} frames in ${seconds.toFixed(1)} s (${seq} pings); at the end ${Object.entries(end).map(([k, v]) => `${k}=${v}`).join(" ")}`);
  }, 120_000);
});
