// Monotonic time: nanoseconds since the boot stub's first instruction, from the TSC.
//
// The TSC is the clock (invariant on every CPU QEMU emulates and on modern hardware: Intel SDM
// Vol. 3B §18.17.1 "Invariant TSC"); its rate comes from arch/x86_64/tsc.ts (CPUID 0x15/0x16 or PIT
// calibration). Zero is the TSC value the stub recorded at its very first instruction (boot info
// +0), so log timestamps and now() agree. Integer arithmetic only: a tick count is split into whole
// seconds and a remainder so nothing overflows u64 for centuries of uptime.
// May import: arch/x86_64 (tsc), bootinfo.

import { readTsc, tscFrequencyHz } from "./arch/x86_64/tsc";
import { bootTscAtStub } from "./bootinfo";

/** Nanoseconds per second, millisecond, microsecond. */
export const NS_PER_SEC: u64 = 1_000_000_000;
export const NS_PER_MS: u64 = 1_000_000;
export const NS_PER_US: u64 = 1_000;

/** TSC ticks -> nanoseconds (0 when the frequency is unknown). */
export function ticksToNs(ticks: u64): u64 {
  const hz = tscFrequencyHz();
  if (hz == 0) return 0;
  return ticks / hz * NS_PER_SEC + (ticks % hz) * NS_PER_SEC / hz;
}

/** Nanoseconds -> TSC ticks, rounded up (so a deadline in ticks is never early). */
export function nsToTicks(ns: u64): u64 {
  const hz = tscFrequencyHz();
  return ns / NS_PER_SEC * hz + ((ns % NS_PER_SEC) * hz + NS_PER_SEC - 1) / NS_PER_SEC;
}

/** TSC value at time zero (the stub's first instruction; 0 if the boot info lacks it). */
export function tscAtZero(): u64 {
  return bootTscAtStub();
}

/** Monotonic nanoseconds since boot. */
export function now(): u64 {
  const start = bootTscAtStub();
  const t = readTsc();
  return t > start ? ticksToNs(t - start) : 0;
}

/** The TSC value at which now() reaches `ns`. */
export function tscAt(ns: u64): u64 {
  return bootTscAtStub() + nsToTicks(ns);
}
