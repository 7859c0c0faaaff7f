/**
 * Event loop, timers and interrupts in the guest (kernel/events/loop.ts, kernel/arch/x86_64/
 * interrupts.ts + lapic.ts + ioapic.ts + pic8259.ts, boot/interrupts.ts): the fixture application
 * (fixture.ts) runs every scenario and prints `name ... [ok]`; booted by PVH on `pc` and `microvm`
 * under TCG. No upper time bounds are asserted (the guest checks lower bounds and ordering only).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readModule } from "../../tools/wasm/reader.ts";
import { validateModule } from "../../tools/wasm/validate.ts";
import { linkImage } from "../../tools/link/image.ts";
import { runQemu } from "../../tools/qemu/runner.ts";
import { compileEventsApp } from "./fixture.ts";

const SCENARIOS = [
  "timer_fires_after_delay",
  "cancelled_timer_never_fires",
  "thousand_timers_fire_in_deadline_order",
  "lapic_timer_wakes_hlt",
  "pending_bits_dispatch_to_handlers",
  "pollers_intervals_and_stop",
  "interrupt_controllers",
];

let elf = "";
beforeAll(async () => {
  const mod = readModule((await compileEventsApp()).wasm);
  validateModule(mod);
  const img = linkImage({ kernel: mod, bios: false });
  elf = join(mkdtempSync(join(tmpdir(), "events-test-")), "events.elf");
  writeFileSync(elf, img.elf);
}, 120_000);

describe.each(["pc", "microvm"] as const)("event loop on %s", (machine) => {
  it("passes every in-guest scenario and exits with status 0", async () => {
    const r = await runQemu({ kernel: elf, machine, timeoutMs: 30_000 });
    const diag = `${r.serial}\n${r.stderr}`;
    expect(r.serial, diag).toMatch(/irq: local APIC \d+ at 0xfee00000, timer (TSC-deadline|one-shot \d+ kHz), IOAPIC \d+ pins/);
    for (const name of SCENARIOS) expect(r.serial, diag).toContain(`${name} ... [ok]`);
    expect(r.serial).not.toContain("[FAILED");
    expect(r.serial).toContain("events: all passed");
    expect(r.status, diag).toBe(0);
  });
});
