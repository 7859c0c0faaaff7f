/**
 * apps/udp-echo on a tap device, reached by the host's own tools: the guest boots under QEMU TCG
 * with its virtio-net NIC on tap0 of a fresh network namespace (tools/qemu/netns.ts; host end
 * 10.0.2.2/24, guest 10.0.2.15), then `ping -c 5` must get 5 replies, `nc -u` must get its line
 * echoed from port 7, and a "quit" datagram ends the guest with status 0.
 *
 * Needs root for the namespace and the tap (CI runs as root); skipped, saying why, only when the
 * kernel or the user cannot create them.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildAppImage } from "../../tools/link/build.ts";
import { createTapNamespace, netnsUnavailableReason, spawnQemuInNetns, tapNicArgs, type TapNamespace } from "../../tools/qemu/netns.ts";

const GUEST = "10.0.2.15";
const unavailable = netnsUnavailableReason();
if (unavailable !== null) console.warn(`test/net-system/ping.test.ts skipped: ${unavailable}`);

describe.skipIf(unavailable !== null)(`udp-echo on a tap device${unavailable ? ` (skipped: ${unavailable})` : ""}`, () => {
  let elf = "";
  let ns: TapNamespace | undefined;
  beforeAll(async () => {
    const img = await buildAppImage("apps/udp-echo");
    elf = join(mkdtempSync(join(tmpdir(), "net-system-")), "udp-echo.elf");
    writeFileSync(elf, img.elf);
    ns = createTapNamespace("ping");
  }, 120_000);
  afterAll(() => ns?.destroy());

  it("answers ping -c 5 and echoes nc -u, then quits", async () => {
    let serial = "";
    let listening!: () => void;
    const ready = new Promise<void>((resolve) => (listening = resolve));
    const qemu = spawnQemuInNetns(ns!, {
      kernel: elf,
      machine: "pc",
      timeoutMs: 25_000,
      extraArgs: tapNicArgs(ns!),
      onSerial: (t) => {
        serial += t;
        if (/udp-echo: listening .*\n/.test(serial)) listening(); // the whole line, not a chunk of it
      },
    });
    try {
      await Promise.race([ready, qemu.result]);
      expect(serial).toContain(`udp-echo: listening on ${GUEST} port 7`);

      const ping = ns!.run("ping", ["-c", "5", "-i", "0.2", "-W", "2", GUEST], { timeoutMs: 10_000 });
      expect(ping).toMatch(/5 packets transmitted, 5 received/);

      const line = "hello from nc over tap\n";
      const echoed = ns!.run("nc", ["-u", "-w", "2", GUEST, "7"], { input: line, timeoutMs: 10_000 });
      expect(echoed).toBe(line);

      ns!.run("nc", ["-u", "-w", "1", GUEST, "7"], { input: "quit", timeoutMs: 10_000 });
      const r = await qemu.result;
      expect(r.serial).toMatch(/udp-echo: echoed \d+ datagrams/);
      expect(r.status, r.serial + r.stderr).toBe(0);
    } finally {
      qemu.stop();
    }
  }, 30_000);
});
