// Time-stamp counter: reading it and finding its frequency.
//
// Frequency, first source that answers:
//  1. CPUID leaf 0x15 (TSC / core crystal clock ratio): Hz = crystal Hz * EBX / EAX
//     (Intel SDM Vol. 3B §18.7.3). Needs ECX (crystal Hz) != 0.
//  2. CPUID leaf 0x16 EAX (processor base frequency in MHz).
//  3. Calibration against PIT channel 2 counting down ~10 ms in mode 0, gate through port 0x61,
//     OUT2 read back in bit 5 of port 0x61 (after: Linux arch/x86/kernel/tsc.c, pit_calibrate_tsc).
// The result is computed once and cached. Integer arithmetic only.

import { rdtsc, cpuid, inb, outb, CpuidReg } from "./intrinsics";

/** PIT input clock in Hz. */
@inline const PIT_HZ: u64 = 1193182;
/** ~10 ms worth of PIT ticks. */
@inline const PIT_LATCH: u32 = <u32>(PIT_HZ / 100);
@inline const PIT_CH2_DATA: u16 = 0x42;
@inline const PIT_MODE_CMD: u16 = 0x43;
/** Channel 2, access lobyte/hibyte, mode 0 (interrupt on terminal count), binary. */
@inline const PIT_CH2_MODE0: u8 = 0xb0;
/** NMI status and control: bit 0 = gate 2, bit 1 = speaker data, bit 5 = OUT2. */
@inline const PORT_61: u16 = 0x61;
@inline const PORT_61_GATE2: u8 = 0x01;
@inline const PORT_61_SPEAKER: u8 = 0x02;
@inline const PORT_61_OUT2: u8 = 0x20;
/** Bound on the calibration loop so a missing PIT cannot hang boot. */
@inline const MAX_CALIBRATION_POLLS: i32 = 5_000_000;

/** Where the cached frequency came from. */
export const enum TscSource { NONE = 0, CPUID_15 = 1, CPUID_16 = 2, PIT = 3 }

let cachedHz: u64 = 0;
let cachedSource: TscSource = TscSource.NONE;

/** Reads the time-stamp counter. */
@inline export function readTsc(): u64 {
  return rdtsc();
}

/** TSC frequency in Hz (0 when no source worked). First call may take ~10 ms. */
export function tscFrequencyHz(): u64 {
  if (cachedSource != TscSource.NONE) return cachedHz;
  const maxLeaf = cpuid(0, 0, CpuidReg.EAX);
  if (maxLeaf >= 0x15) {
    const denominator = cpuid(0x15, 0, CpuidReg.EAX);
    const numerator = cpuid(0x15, 0, CpuidReg.EBX);
    const crystalHz = cpuid(0x15, 0, CpuidReg.ECX);
    if (denominator != 0 && numerator != 0 && crystalHz != 0) {
      return remember(<u64>crystalHz * <u64>numerator / <u64>denominator, TscSource.CPUID_15);
    }
  }
  if (maxLeaf >= 0x16) {
    const baseMHz = cpuid(0x16, 0, CpuidReg.EAX) & 0xffff;
    if (baseMHz != 0) return remember(<u64>baseMHz * 1_000_000, TscSource.CPUID_16);
  }
  return remember(calibrateWithPit(), TscSource.PIT);
}

/** How the frequency was obtained (after `tscFrequencyHz()`). */
export function tscFrequencySource(): TscSource {
  return cachedSource;
}

/** Converts a TSC tick delta to microseconds (0 when the frequency is unknown). */
export function ticksToMicros(ticks: u64): u64 {
  const hz = tscFrequencyHz();
  if (hz == 0) return 0;
  // ticks * 1e6 overflows u64 only after ~5 hours at 1 GHz; split to stay exact beyond that.
  const whole = ticks / hz;
  const rest = ticks % hz;
  return whole * 1_000_000 + rest * 1_000_000 / hz;
}

function remember(hz: u64, source: TscSource): u64 {
  cachedHz = hz;
  cachedSource = source;
  return hz;
}

/** Counts TSC ticks while PIT channel 2 counts PIT_LATCH ticks down to zero. */
function calibrateWithPit(): u64 {
  // Gate high (counting enabled), speaker output off.
  outb(PORT_61, (inb(PORT_61) & ~PORT_61_SPEAKER) | PORT_61_GATE2);
  outb(PIT_MODE_CMD, PIT_CH2_MODE0);
  outb(PIT_CH2_DATA, <u8>(PIT_LATCH & 0xff));
  outb(PIT_CH2_DATA, <u8>(PIT_LATCH >> 8)); // counting starts after the high byte
  const start = rdtsc();
  let polls = 0;
  while ((inb(PORT_61) & PORT_61_OUT2) == 0) {
    if (++polls >= MAX_CALIBRATION_POLLS) return 0;
  }
  const ticks = rdtsc() - start;
  return ticks * PIT_HZ / <u64>PIT_LATCH;
}
