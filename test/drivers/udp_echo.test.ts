/**
 * apps/udp-echo end to end: net/'s stack on drivers/virtio (VirtioNetDevice) under QEMU TCG with
 * user networking; a Node dgram client on the host reaches guest port 7 through hostfwd, gets
 * every datagram back byte for byte, then sends "quit" and the guest ends with status 0.
 * Second case: address and port from the PVH command line, and zero allocation: after a warm-up,
 * 100,000 echoed datagrams leave the kernel allocator's counters (heap, pages, pool occupancy)
 * unchanged, read from the guest's "stats" block before and after; the MSI-X wake-up is used.
 */
import { createSocket } from "node:dgram";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { buildAppImage } from "../../tools/link/build.ts";
import { runQemu } from "../../tools/qemu/runner.ts";

let elf = "";
beforeAll(async () => {
  const img = await buildAppImage("apps/udp-echo");
  elf = join(mkdtempSync(join(tmpdir(), "udp-echo-test-")), "udp-echo.elf");
  writeFileSync(elf, img.elf);
}, 120_000);

/** A UDP port that was free a moment ago (QEMU binds it for hostfwd). */
async function freePort(): Promise<number> {
  const s = createSocket("udp4");
  await new Promise<void>((resolve) => s.bind(0, "127.0.0.1", resolve));
  const port = s.address().port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

describe("udp-echo", () => {
  it("echoes datagrams from a host client through hostfwd, then quits", async () => {
    const port = await freePort();
    let listening!: () => void;
    const ready = new Promise<void>((resolve) => (listening = resolve));
    let serial = "";
    const run = runQemu({
      kernel: elf,
      machine: "pc",
      timeoutMs: 30_000,
      extraArgs: ["-netdev", `user,id=n0,hostfwd=udp:127.0.0.1:${port}-:7`, "-device", "virtio-net-pci,netdev=n0"],
      onSerial: (t) => {
        serial += t;
        // Wait for the whole line: serial output can arrive in arbitrary chunks.
        if (/udp-echo: listening[^\n]*\n/.test(serial)) listening();
      },
    });
    await Promise.race([ready, run]);
    expect(serial).toContain("udp-echo: listening on 10.0.2.15 port 7, transport modern");

    const client = createSocket("udp4");
    const replies: Buffer[] = [];
    client.on("message", (m) => replies.push(m));
    await new Promise<void>((resolve) => client.bind(0, "127.0.0.1", resolve));
    const messages = ["hello, unikernel", "x".repeat(1000), "third"];
    // The first datagram may arrive before the guest answered slirp's ARP: resend until echoed.
    const deadline = Date.now() + 15_000;
    for (const m of messages) {
      while (!replies.some((r) => r.toString() === m) && Date.now() < deadline) {
        client.send(m, port, "127.0.0.1");
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    client.send("quit", port, "127.0.0.1");
    const r = await run;
    client.close();
    for (const m of messages) expect(replies.map((b) => b.toString()), r.serial).toContain(m);
    expect(r.serial).toMatch(/udp-echo: echoed \d+ datagrams/);
    expect(r.status, r.serial + r.stderr).toBe(0);
  });

  it("takes ip= and port= from the command line and echoes 100,000 datagrams without allocating", async () => {
    const port = await freePort();
    let serial = "";
    let listening!: () => void;
    const ready = new Promise<void>((resolve) => (listening = resolve));
    const waiters: Array<() => void> = [];
    const run = runQemu({
      kernel: elf,
      machine: "pc",
      timeoutMs: 60_000,
      append: "ip=10.0.2.20/24 gw=10.0.2.2 port=9",
      extraArgs: ["-netdev", `user,id=n0,hostfwd=udp:127.0.0.1:${port}-10.0.2.20:9`, "-device", "virtio-net-pci,netdev=n0"],
      onSerial: (t) => {
        serial += t;
        // Ready once the wake-up line (printed right after "listening") is complete.
        if (/udp-echo: wake-up[^\n]*\n/.test(serial)) listening();
        if (t.includes("\n")) for (const w of waiters.splice(0)) w();
      },
    });
    await Promise.race([ready, run]);
    expect(serial).toContain("udp-echo: listening on 10.0.2.20 port 9, transport modern");
    expect(serial).toMatch(/udp-echo: wake-up msi-x vector \d+/);

    const client = createSocket("udp4");
    let echoes = 0;
    client.on("message", (m) => {
      if (m.length === 64) echoes++;
    });
    await new Promise<void>((resolve) => client.bind(0, "127.0.0.1", resolve));
    const payload = Buffer.alloc(64, 0x5a);
    const alive = { done: false };
    void run.finally(() => (alive.done = true));

    /** Keeps `window` datagrams in flight until `count` more echoes came back (lost ones are resent). */
    async function echo(count: number, window: number): Promise<void> {
      const target = echoes + count;
      let inFlight = 0;
      let seen = echoes;
      let idleSince = Date.now();
      while (echoes < target && !alive.done) {
        inFlight -= echoes - seen;
        if (echoes !== seen) idleSince = Date.now();
        seen = echoes;
        if (Date.now() - idleSince > 300) inFlight = 0; // lost (slirp or the ring dropped some): refill
        while (inFlight < window && seen + inFlight < target) {
          client.send(payload, port, "127.0.0.1");
          inFlight++;
        }
        await new Promise((r) => setImmediate(r));
      }
    }

    /** Sends "stats" until the guest printed one more counter block; returns its lines. */
    async function stats(): Promise<Record<string, number>> {
      const before = serial.split("udp-echo: stats end").length;
      while (serial.split("udp-echo: stats end").length === before && !alive.done) {
        client.send("stats", port, "127.0.0.1");
        await Promise.race([new Promise<void>((r) => waiters.push(r)), new Promise((r) => setTimeout(r, 500))]);
      }
      const block = serial.split("udp-echo: stats end")[before - 1];
      const out: Record<string, number> = {};
      for (const line of block.split("\n")) {
        const pool = /udp-echo: pool (\d+) (.*)/.exec(line);
        const prefix = pool ? `pool${pool[1]}.` : line.startsWith("udp-echo: memory") ? "" : line.startsWith("udp-echo: stats") ? "" : null;
        if (prefix === null) continue;
        for (const [, k, v] of line.matchAll(/(\w+)=(\d+)/g)) out[prefix + k] = Number(v);
      }
      return out;
    }

    await echo(2_000, 32); // warm-up: ARP, first use of every path
    const before = await stats();
    const t0 = performance.now();
    await echo(100_000, 32);
    const seconds = (performance.now() - t0) / 1000;
    const after = await stats();
    client.send("quit", port, "127.0.0.1");
    const r = await run;
    client.close();
    const report = r.serial + r.stderr;
    console.log(
      `udp-echo through hostfwd: ${Math.round(100_000 / seconds)} echoes/s; ` +
        `irq ${after.irq - before.irq}, polls ${after.polls - before.polls} (busy ${after.busy_polls - before.busy_polls}), halts ${after.halts - before.halts}`,
    );

    expect(echoes, report).toBeGreaterThanOrEqual(102_000);
    expect(after.echoed - before.echoed, report).toBeGreaterThanOrEqual(100_000);
    for (const key of ["heap_allocs", "heap_frees", "heap_bytes", "pages"]) {
      expect({ key, value: after[key] }, report).toEqual({ key, value: before[key] });
    }
    const pools = Object.keys(before).filter((k) => k.startsWith("pool") && /\.(in_use|capacity|fails)$/.test(k));
    expect(pools.length, report).toBeGreaterThanOrEqual(9); // rx, tx and ARP-queue pools
    for (const key of pools) expect({ key, value: after[key] }, report).toEqual({ key, value: before[key] });
    expect(after.irq, report).toBeGreaterThan(0); // the idle loop was woken by the device
    expect(r.status, report).toBe(0);
  });
});
