// Local APIC (xAPIC mode, memory-mapped): enable, spurious vector, EOI, self-IPI and the timer.
//
// Source: Intel SDM Vol. 3A ch. 11 "Advanced Programmable Interrupt Controller (APIC)" (ch. 10 in
// older editions): §11.4.3-11.4.4 (IA32_APIC_BASE MSR, global enable), Table 11-1 (register
// offsets), §11.5.1 (LVT), §11.5.4 (APIC timer: divide configuration, initial/current count,
// one-shot mode), §11.5.4.1 (TSC-deadline mode, CPUID.01H:ECX[24], IA32_TSC_DEADLINE MSR 6E0H),
// §11.6.1 (ICR, destination shorthand "self"), §11.8.5 (EOI), §11.9 (spurious-interrupt vector
// register: bit 8 = APIC software enable). The registers are 32 bits wide, 16-byte aligned, and
// must be accessed with 32-bit loads and stores.
//
// The page tables identity-map the first 4 GiB, so the default base 0xFEE00000 is reachable as is.
//
// LVT entry (timer, LINT0/1, error):
// ```
//  31        19 18 17 16 15 14 13 12 11  8 7        0
// ┌────────────┬─────┬──┬──┬──┬──┬──┬─────┬──────────┐
// │  reserved  │mode │M │TM│RI│PP│DS│ DM  │  vector  │   mode (timer only): 00 one-shot,
// └────────────┴─────┴──┴──┴──┴──┴──┴─────┴──────────┘   01 periodic, 10 TSC-deadline; M = masked
// ```

import { cpuid, CpuidReg, rdmsr, wrmsr, mmioRead32, mmioWrite32, mfence, rdtsc } from "./intrinsics";

@inline const MSR_APIC_BASE: u32 = 0x1b;
@inline const APIC_BASE_ENABLE: u64 = 1 << 11; // xAPIC global enable
@inline const APIC_BASE_X2APIC: u64 = 1 << 10; // x2APIC mode (MMIO disabled)
@inline const APIC_BASE_ADDR_MASK: u64 = 0x000f_ffff_ffff_f000;
@inline const MSR_TSC_DEADLINE: u32 = 0x6e0;
@inline const CPUID_EDX_APIC: u32 = 1 << 9;
@inline const CPUID_ECX_TSC_DEADLINE: u32 = 1 << 24;

// Register offsets (SDM Table 11-1).
@inline const REG_ID: u64 = 0x20;
@inline const REG_VERSION: u64 = 0x30;
@inline const REG_TPR: u64 = 0x80;
@inline const REG_EOI: u64 = 0xb0;
@inline const REG_SVR: u64 = 0xf0;
@inline const REG_ESR: u64 = 0x280;
@inline const REG_ICR_LOW: u64 = 0x300;
@inline const REG_LVT_TIMER: u64 = 0x320;
@inline const REG_LVT_LINT0: u64 = 0x350;
@inline const REG_LVT_ERROR: u64 = 0x370;
@inline const REG_TIMER_INITIAL: u64 = 0x380;
@inline const REG_TIMER_CURRENT: u64 = 0x390;
@inline const REG_TIMER_DIVIDE: u64 = 0x3e0;

@inline const SVR_ENABLE: u32 = 1 << 8;
@inline const LVT_MASKED: u32 = 1 << 16;
@inline const LVT_TIMER_ONE_SHOT: u32 = 0 << 17;
@inline const LVT_TIMER_TSC_DEADLINE: u32 = 2 << 17;
/** Divide configuration 0b0011: the timer counts at the bus (core crystal) clock / 16. */
@inline const TIMER_DIVIDE_BY_16: u32 = 0x3;
/** ICR: destination shorthand 01 = self, delivery mode fixed, edge. */
@inline const ICR_SHORTHAND_SELF: u32 = 1 << 18;
@inline const ICR_DELIVERY_PENDING: u32 = 1 << 12;
/** Longest one-shot programmed at once (a longer wait simply re-arms after the wake-up). */
@inline const MAX_ONE_SHOT_NS: u64 = 10_000_000_000;

let base: u64 = 0;
let present = false;
let deadlineMode = false;
let timerVector: u32 = 0;
/** APIC timer counts per second after the divider (one-shot mode only). */
let timerHz: u64 = 0;

/** Whether lapicInit found and enabled a local APIC. */
export function lapicPresent(): bool { return present; }
/** Physical base address of the local APIC registers (0 when absent). */
export function lapicBase(): u64 { return base; }
/** True when the timer runs in TSC-deadline mode, false for one-shot counts. */
export function lapicTscDeadline(): bool { return deadlineMode; }
/** The timer's count rate in Hz (one-shot mode; 0 in TSC-deadline mode). */
export function lapicTimerHz(): u64 { return timerHz; }

@inline function read(reg: u64): u32 { return mmioRead32(base + reg); }
@inline function write(reg: u64, v: u32): void { mmioWrite32(base + reg, v); }

/**
 * Finds and software-enables the local APIC: spurious vector `spuriousVector`, task priority 0
 * (accept everything), LINT0 (the 8259's virtual-wire input) and the error LVT masked. Returns false
 * when CPUID says there is no APIC or it is in x2APIC mode (not supported yet).
 */
export function lapicInit(spuriousVector: u8): bool {
  if ((cpuid(1, 0, CpuidReg.EDX) & CPUID_EDX_APIC) == 0) return false;
  let msr = rdmsr(MSR_APIC_BASE);
  if ((msr & APIC_BASE_X2APIC) != 0) return false;
  if ((msr & APIC_BASE_ENABLE) == 0) {
    msr |= APIC_BASE_ENABLE;
    wrmsr(MSR_APIC_BASE, msr);
  }
  base = msr & APIC_BASE_ADDR_MASK;
  present = true;
  write(REG_TPR, 0);
  write(REG_LVT_LINT0, LVT_MASKED);
  write(REG_LVT_ERROR, LVT_MASKED);
  write(REG_ESR, 0); // writing ESR re-arms error recording (§11.5.3)
  write(REG_LVT_TIMER, LVT_MASKED);
  write(REG_SVR, SVR_ENABLE | <u32>spuriousVector);
  return true;
}

/** This CPU's local APIC id (bits 31:24 of the ID register). */
export function lapicId(): u32 { return read(REG_ID) >> 24; }
/** Version register: bits 7:0 version, 23:16 highest LVT entry. */
export function lapicVersion(): u32 { return read(REG_VERSION); }

/** End of interrupt: clears the highest-priority in-service bit (§11.8.5). */
@inline export function lapicEoi(): void {
  write(REG_EOI, 0);
}

/** Sends `vector` to this CPU through the ICR (fixed delivery, shorthand self). */
export function lapicSelfIpi(vector: u8): void {
  write(REG_ICR_LOW, ICR_SHORTHAND_SELF | <u32>vector);
  while ((read(REG_ICR_LOW) & ICR_DELIVERY_PENDING) != 0) {} // xAPIC: wait until accepted
}

/**
 * Sets the timer up to interrupt on `vector`: TSC-deadline mode when CPUID offers it, else
 * one-shot counts whose rate is measured against the TSC over `calibrationTicks` TSC ticks.
 */
export function lapicTimerInit(vector: u8, calibrationTicks: u64, tscHz: u64, allowDeadline: bool = true): void {
  timerVector = <u32>vector;
  deadlineMode = allowDeadline && (cpuid(1, 0, CpuidReg.ECX) & CPUID_ECX_TSC_DEADLINE) != 0;
  if (deadlineMode) {
    write(REG_LVT_TIMER, LVT_TIMER_TSC_DEADLINE | timerVector);
    mfence(); // §11.5.4.1: order the LVT write before any IA32_TSC_DEADLINE write
    wrmsr(MSR_TSC_DEADLINE, 0); // disarmed
    return;
  }
  write(REG_TIMER_DIVIDE, TIMER_DIVIDE_BY_16);
  write(REG_LVT_TIMER, LVT_MASKED | LVT_TIMER_ONE_SHOT | timerVector); // masked while measuring
  write(REG_TIMER_INITIAL, 0xffff_ffff);
  const startCount = read(REG_TIMER_CURRENT);
  const startTsc = rdtsc();
  let tsc = startTsc;
  while (tsc - startTsc < calibrationTicks) tsc = rdtsc();
  const endCount = read(REG_TIMER_CURRENT);
  write(REG_TIMER_INITIAL, 0); // stop
  const counted = <u64>(startCount - endCount);
  timerHz = tscHz == 0 ? 0 : counted * tscHz / (tsc - startTsc);
  write(REG_LVT_TIMER, LVT_TIMER_ONE_SHOT | timerVector); // unmasked; initial count 0 = stopped
}

/**
 * Arms the timer to interrupt at TSC value `deadlineTsc` (`nowTsc` = current TSC, `tscHz` its rate).
 * One-shot mode rounds up, so the interrupt never comes before the deadline; waits beyond
 * MAX_ONE_SHOT_NS are cut short (the caller re-arms).
 */
export function lapicTimerArm(deadlineTsc: u64, nowTsc: u64, tscHz: u64): void {
  if (deadlineMode) {
    wrmsr(MSR_TSC_DEADLINE, deadlineTsc == 0 ? 1 : deadlineTsc);
    return;
  }
  if (timerHz == 0 || tscHz == 0) return;
  const ticks = deadlineTsc > nowTsc ? deadlineTsc - nowTsc : 0;
  let ns = ticks / tscHz * 1_000_000_000 + (ticks % tscHz) * 1_000_000_000 / tscHz + 1;
  if (ns > MAX_ONE_SHOT_NS) ns = MAX_ONE_SHOT_NS;
  let count = (ns * timerHz + 999_999_999) / 1_000_000_000;
  if (count == 0) count = 1;
  write(REG_TIMER_INITIAL, <u32>count);
}

/** Stops the timer (no interrupt until the next arm). */
export function lapicTimerDisarm(): void {
  if (deadlineMode) wrmsr(MSR_TSC_DEADLINE, 0);
  else write(REG_TIMER_INITIAL, 0);
}
