/**
 * drivers/ in the guest: apps/net-probe boots under QEMU TCG with virtio devices and reports one
 * `name ... [ok]` line per check (PCI enumeration and BARs, virtio-net attach / ARP / ping /
 * batched kick / 300-frame burst through both rings, virtio-rng, entropy pool).
 * Three device set-ups: transitional devices on pc (modern transport), the same with
 * `disable-modern=on` (legacy I/O transport, 10-byte header), modern-only devices on q35.
 * A microvm run (no PCI) must report failure: the probe can fail.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { buildAppImage } from "../../tools/link/build.ts";
import { runQemu, type QemuOptions } from "../../tools/qemu/runner.ts";

const NET_CHECKS = [
  "pci enumerate",
  "virtio-net attach",
  "virtio-net bus master",
  "virtio-net link",
  "virtio-net arp",
  "virtio-net tx batch",
  "virtio-net ping",
  "virtio-net burst",
  "virtio-rng attach",
  "virtio-rng read",
  "entropy pool",
];

let elf = "";
beforeAll(async () => {
  const img = await buildAppImage("apps/net-probe");
  elf = join(mkdtempSync(join(tmpdir(), "drivers-test-")), "net-probe.elf");
  writeFileSync(elf, img.elf);
}, 120_000);

async function probe(machine: QemuOptions["machine"], devices: string[]) {
  const r = await runQemu({ kernel: elf, machine, timeoutMs: 20_000, extraArgs: devices });
  const report = `${r.serial}\n${r.stderr}`;
  return { ...r, report };
}

function expectAllOk(serial: string, report: string): void {
  for (const name of NET_CHECKS) expect(serial, report).toContain(`${name} ... [ok]`);
  expect(serial, report).not.toContain("[FAILED]");
  expect(serial).toContain("net-probe: 0 failures");
}

describe("net-probe", () => {
  it("drives transitional virtio-net and virtio-rng through the modern transport (pc)", async () => {
    const r = await probe("pc", [
      "-netdev", "user,id=n0", "-device", "virtio-net-pci,netdev=n0,mac=52:54:00:ab:cd:ef", "-device", "virtio-rng-pci",
    ]);
    expectAllOk(r.serial, r.report);
    expect(r.serial).toMatch(/virtio-net: modern transport, header 12 bytes, .*MAC 52:54:00:ab:cd:ef, link up/);
    expect(r.serial).toContain("10.0.2.2 is at 52:55:0a:00:02:02");
    expect(r.serial).toMatch(/1af4:1000 class 020000 io@[0-9a-f]+\/20 mem32@[0-9a-f]+\/1000 mem64@[0-9a-f]+\/4000/);
    expect(r.serial).toMatch(/virtio-rng: modern transport, [0-9a-f]{32}/);
    expect(r.status).toBe(0);
  });

  it("falls back to the legacy I/O transport with disable-modern=on (pc)", async () => {
    const r = await probe("pc", [
      "-netdev", "user,id=n0", "-device", "virtio-net-pci,netdev=n0,disable-modern=on",
      "-device", "virtio-rng-pci,disable-modern=on",
    ]);
    expectAllOk(r.serial, r.report);
    expect(r.serial).toMatch(/virtio-net: legacy transport, header 10 bytes, rx ring 256/);
    expect(r.serial).toMatch(/virtio-rng: legacy transport/);
    expect(r.status).toBe(0);
  });

  it("drives modern-only devices (ids 0x1041 / 0x1044) on q35", async () => {
    const r = await probe("q35", [
      "-netdev", "user,id=n0", "-device", "virtio-net-pci,netdev=n0,disable-legacy=on",
      "-device", "virtio-rng-pci,disable-legacy=on",
    ]);
    expectAllOk(r.serial, r.report);
    expect(r.serial).toMatch(/1af4:1041 class 020000/);
    expect(r.serial).toMatch(/virtio-net: modern transport/);
    expect(r.status).toBe(0);
  });

  it("reports failure when there is no device to drive (microvm has no PCI)", async () => {
    const r = await probe("microvm", []);
    expect(r.serial, r.report).toContain("pci: 0 functions");
    expect(r.serial).toContain("pci enumerate ... [FAILED]");
    expect(r.serial).toContain("virtio-net attach ... [FAILED]");
    expect(r.serial).toContain("virtio-rng: none");
    expect(r.status).toBe(1);
  });
});
