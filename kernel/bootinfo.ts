// Boot info: what the boot stub and the firmware tell the kernel (tools/link/ABI.md "Boot info").
//
// Boot info record at image.bootInfo():
//   +0   u64  tsc at the stub's first instruction
//   +8   u64  tsc just before the first wasm call
//   +16  u32  source: 1 = BIOS/El Torito, 2 = PVH
//   +20  u32  number of E820 entries at +64 (BIOS only)
//   +24  u64  physical address of hvm_start_info (PVH only)
//   +64  E820 entries, 24 bytes each: u64 base, u64 length, u32 type, u32 ext attrs
//
// PVH hvm_start_info (after: xen/include/public/arch-x86/hvm/start_info.h):
//   +0  u32 magic 0x336ec578   +4  u32 version   +8 u32 flags   +12 u32 nr_modules
//   +16 u64 modlist_paddr      +24 u64 cmdline_paddr             +32 u64 rsdp_paddr
//   version >= 1:  +40 u64 memmap_paddr   +48 u32 memmap_entries  +52 u32 reserved
// hvm_memmap_table_entry has the same 24-byte layout as an E820 entry.
//
// Memory map source: the E820 entries in the boot info whenever their count is non-zero (BIOS, or a
// PVH stub that copied the map there), else hvm_start_info's memmap. Physical addresses are
// identity-mapped, except page 0, which is never mapped: a record there (QEMU's PVH option ROM
// keeps hvm_start_info in page 0) cannot be read and is treated as absent rather than faulting.
// Records above 4 GiB are ignored too (never seen in practice).

import { bootInfoAddress } from "./arch/x86_64/image";

/** How the image was started. */
export const enum BootSource { UNKNOWN = 0, BIOS = 1, PVH = 2 }

/** E820 / hvm_memmap entry types. */
export const enum MemoryType { RAM = 1, RESERVED = 2, ACPI = 3, NVS = 4, UNUSABLE = 5 }

@inline const BI_TSC_STUB = 0;
@inline const BI_TSC_WASM = 8;
@inline const BI_SOURCE = 16;
@inline const BI_E820_COUNT = 20;
@inline const BI_HVM_START_INFO = 24;
@inline const BI_E820_ENTRIES = 64;
@inline const E820_MAX = 64;
@inline const MEMMAP_ENTRY_SIZE: usize = 24;
@inline const ENTRY_BASE = 0;
@inline const ENTRY_LENGTH = 8;
@inline const ENTRY_TYPE = 16;

@inline const HVM_START_MAGIC: u32 = 0x336ec578;
@inline const HVM_MAGIC = 0;
@inline const HVM_VERSION = 4;
@inline const HVM_CMDLINE_PADDR = 24;
@inline const HVM_MEMMAP_PADDR = 40;
@inline const HVM_MEMMAP_ENTRIES = 48;
/** Addresses below this (page 0) are never mapped. */
@inline const FIRST_MAPPED: u64 = 0x1000;
/** Longest command line we scan for its NUL. */
@inline const CMDLINE_MAX: usize = 4096;

/** TSC value at the stub's first instruction. */
export function bootTscAtStub(): u64 {
  return load<u64>(bootInfoAddress(), BI_TSC_STUB);
}

/** TSC value just before the first wasm call. */
export function bootTscAtWasm(): u64 {
  return load<u64>(bootInfoAddress(), BI_TSC_WASM);
}

export function bootSource(): BootSource {
  const s = load<u32>(bootInfoAddress(), BI_SOURCE);
  return s == 1 ? BootSource.BIOS : s == 2 ? BootSource.PVH : BootSource.UNKNOWN;
}

/** "BIOS", "PVH" or "unknown". */
export function bootSourceName(): string {
  const s = bootSource();
  return s == BootSource.BIOS ? "BIOS" : s == BootSource.PVH ? "PVH" : "unknown";
}

/** Address of hvm_start_info when booted through PVH with a valid record, else 0. */
export function hvmStartInfo(): usize {
  if (bootSource() != BootSource.PVH) return 0;
  const paddr = load<u64>(bootInfoAddress(), BI_HVM_START_INFO);
  if (!readable(paddr, 56)) return 0;
  const p = <usize>paddr;
  if (load<u32>(p, HVM_MAGIC) != HVM_START_MAGIC) return 0;
  return p;
}

/** True when [paddr, paddr + len) is in mapped memory below 4 GiB. */
function readable(paddr: u64, len: u64): bool {
  return paddr >= FIRST_MAPPED && paddr + len <= 0x1_0000_0000;
}

/** Number of E820 entries copied into the boot info by the stub. */
@inline function bootInfoE820Count(): u32 {
  return min(load<u32>(bootInfoAddress(), BI_E820_COUNT), <u32>E820_MAX);
}

/** Address of the first 24-byte memory map entry (0 when there is no map). */
function memmapAddress(): usize {
  if (bootInfoE820Count() != 0) return bootInfoAddress() + BI_E820_ENTRIES;
  const hvm = hvmStartInfo();
  if (hvm == 0 || load<u32>(hvm, HVM_VERSION) < 1) return 0;
  const paddr = load<u64>(hvm, HVM_MEMMAP_PADDR);
  const n = <u64>load<u32>(hvm, HVM_MEMMAP_ENTRIES);
  return readable(paddr, n * MEMMAP_ENTRY_SIZE) ? <usize>paddr : 0;
}

/** Number of firmware memory map entries. */
export function memoryRegionCount(): i32 {
  const copied = bootInfoE820Count();
  if (copied != 0) return <i32>copied;
  if (memmapAddress() == 0) return 0;
  return <i32>load<u32>(hvmStartInfo(), HVM_MEMMAP_ENTRIES);
}

@inline function entry(i: i32): usize {
  return memmapAddress() + <usize>i * MEMMAP_ENTRY_SIZE;
}

export function memoryRegionBase(i: i32): u64 { return load<u64>(entry(i), ENTRY_BASE); }
export function memoryRegionLength(i: i32): u64 { return load<u64>(entry(i), ENTRY_LENGTH); }
export function memoryRegionType(i: i32): u32 { return load<u32>(entry(i), ENTRY_TYPE); }

/** Sum of the lengths of all usable-RAM regions, in bytes. */
export function totalRamBytes(): u64 {
  let total: u64 = 0;
  const n = memoryRegionCount();
  for (let i = 0; i < n; i++) {
    if (memoryRegionType(i) == MemoryType.RAM) total += memoryRegionLength(i);
  }
  return total;
}

/** Address of the NUL-terminated kernel command line (PVH), or 0. */
export function cmdlineAddress(): usize {
  const hvm = hvmStartInfo();
  if (hvm == 0) return 0;
  const paddr = load<u64>(hvm, HVM_CMDLINE_PADDR);
  return readable(paddr, 1) ? <usize>paddr : 0;
}

/** Byte length of the command line (0 when there is none). */
export function cmdlineLength(): usize {
  const p = cmdlineAddress();
  if (p == 0) return 0;
  let n: usize = 0;
  while (n < CMDLINE_MAX && load<u8>(p + n) != 0) n++;
  return n;
}

/**
 * The kernel command line as a string, one character per byte (Latin-1; "" when there is none,
 * e.g. on the BIOS/ISO path). Allocates: for start-up code.
 */
export function cmdline(): string {
  const p = cmdlineAddress();
  const n = cmdlineLength();
  if (n == 0) return "";
  const s = __new(n << 1, idof<string>());
  for (let i: usize = 0; i < n; i++) store<u16>(s + (i << 1), <u16>load<u8>(p + i));
  return changetype<string>(s);
}
