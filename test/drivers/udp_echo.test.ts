/**
 * apps/udp-echo end to end: net/'s stack on drivers/virtio (VirtioNetDevice) under QEMU TCG with
 * user networking; a Node dgram client on the host reaches guest port 7 through hostfwd, gets
 * every datagram back byte for byte, then sends "quit" and the guest ends with status 0.
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
});
