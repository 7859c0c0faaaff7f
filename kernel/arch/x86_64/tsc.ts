// Time-stamp counter: reading it and finding its frequency.
//
// Frequency, first source that answers:
//  1. CPUID leaf 0x15 (TSC / core crystal clock ratio): Hz = crystal Hz * EBX / EAX
//     (Intel SDM Vol. 3B §18.7.3). Needs ECX (crystal Hz) != 0.
//  2. CPUID leaf 0x16 EAX (processor base frequency in MHz).
//  3. Calibration against ~10 ms of PIT channel 0 read back with latch commands (Intel 8254 data
//     sheet: counter latch command; idea after Linux arch/x86/kernel/tsc.c, pit_calibrate_tsc).
// The result is computed once and cached. Integer arithmetic only.

import { rdtsc, cpuid, inb, outb, CpuidReg } from "./intrinsics";

/** PIT input clock in Hz. */
@inline const PIT_HZ: u64 = 1193182;
/** ~10 ms worth of PIT ticks. */
@inline const PIT_LATCH: u32 = <u32>(PIT_HZ / 100);
@inline const PIT_CH0_DATA: u16 = 0x40;
/** Channel 0, access lobyte/hibyte, mode 2 (rate generator), binary. */
@inline const PIT_CH0_MODE2: u8 = 0x34;
/** Counter latch command for channel 0. */
@inline const PIT_LATCH_CH0: u8 = 0x00;
@inline const PIT_MODE_CMD: u16 = 0x43;
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

/**
 * Counts TSC ticks over ~10 ms of PIT channel 0, read back with the counter-latch command.
 * Channel 0 (not 2) because it needs no gate: QEMU's microvm has a PIT but no port 0x61.
 * The counter runs down from 0xFFFF in mode 2; deltas between polls are summed modulo 2^16,
 * so wrap-around is harmless as long as polls are less than 55 ms apart.
 */
function calibrateWithPit(): u64 {
  outb(PIT_MODE_CMD, PIT_CH0_MODE2);
  outb(PIT_CH0_DATA, 0xff);
  outb(PIT_CH0_DATA, 0xff); // reload value 0xFFFF; counting starts after the high byte
  let previous = readPitChannel0();
  const start = rdtsc();
  let elapsed: u32 = 0;
  let polls = 0;
  let moved = false;
  while (elapsed < PIT_LATCH) {
    const now = readPitChannel0();
    const delta = (previous - now) & 0xffff;
    if (delta != 0) moved = true;
    elapsed += delta;
    previous = now;
    if (++polls >= MAX_CALIBRATION_POLLS) return 0;
    if (!moved && polls > 1_000_000) return 0; // no PIT answering
  }
  const ticks = rdtsc() - start;
  return ticks * PIT_HZ / <u64>elapsed;
}

/** Latches and reads channel 0's current count (low byte, then high byte). */
function readPitChannel0(): u32 {
  outb(PIT_MODE_CMD, PIT_LATCH_CH0);
  const lo = <u32>inb(PIT_CH0_DATA);
  const hi = <u32>inb(PIT_CH0_DATA);
  return (hi << 8) | lo;
}
