// virtio over PCI: finding devices, the modern (capability) and legacy (I/O BAR) transports,
// device status handshake and feature negotiation.
//
// After: Virtual I/O Device (VIRTIO) Version 1.2
//   §2.1   device status field         §2.2  feature bits
//   §3.1.1 driver requirements: device initialization (the order implemented by begin()/finish())
//   §4.1.2 PCI device discovery (vendor 0x1AF4; ids 0x1000-0x103F transitional, 0x1040+ modern)
//   §4.1.4 virtio structure PCI capabilities (common / notify / ISR / device cfg)
//   §4.1.4.3 common configuration structure layout   §4.1.4.4 notification structure layout
//   §4.1.4.8 legacy interfaces: a note on PCI device layout (I/O BAR0 registers)
//   §4.1.5.1.3 virtqueue configuration
// and PCI Local Bus Specification 3.0 §6.7 (capability list) through drivers/pci.
//
//   virtio_pci_cap (vendor-specific capability, id 0x09)
//   +0 u8 cap_vndr  +1 u8 cap_next  +2 u8 cap_len  +3 u8 cfg_type
//   +4 u8 bar       +5 u8 id        +6 u8 pad[2]
//   +8 le32 offset (within the BAR)  +12 le32 length
//   +16 le32 notify_off_multiplier   (cfg_type 2 only)
//
//   common configuration (modern)          legacy I/O BAR0 registers
//   0x00 le32 device_feature_select          0x00 le32 device features (bits 0-31)
//   0x04 le32 device_feature                 0x04 le32 driver features
//   0x08 le32 driver_feature_select          0x08 le32 queue address (PFN, 4 KiB pages)
//   0x0C le32 driver_feature                 0x0C le16 queue size (read only)
//   0x10 le16 config_msix_vector             0x0E le16 queue select
//   0x12 le16 num_queues                     0x10 le16 queue notify
//   0x14 u8   device_status                  0x12 u8   device status
//   0x15 u8   config_generation              0x13 u8   ISR status
//   0x16 le16 queue_select                   0x14 ..   device config (MSI-X off)
//   0x18 le16 queue_size
//   0x1A le16 queue_msix_vector
//   0x1C le16 queue_enable
//   0x1E le16 queue_notify_off
//   0x20 le64 queue_desc   0x28 le64 queue_driver   0x30 le64 queue_device
//
//   MSI-X capability (id 0x11, PCI Local Bus 3.0 §6.8.2)    MSI-X table entry (16 bytes, in a BAR)
//   +0 u8 id  +1 u8 next  +2 le16 message control            +0 le32 message address low
//      (bits 10:0 table size - 1, 14 function mask, 15 enable) +4 le32 message address high
//   +4 le32 table offset | BIR (bits 2:0)                     +8 le32 message data
//   +8 le32 PBA offset | BIR                                  +12 le32 vector control (bit 0 mask)
// x86 message (Intel SDM Vol. 3A §11.11): address 0xFEE00000 | dest APIC id << 12 (physical,
// fixed), data = vector (edge). With MSI-X enabled the legacy I/O layout gains two registers
// (0x14 config vector, 0x16 queue vector) and the device configuration moves to 0x18.
//
// Modern registers are MMIO (64-bit physical addresses); BARs above 4 GiB are refused because
// only the first 4 GiB are mapped. The legacy transport is used only when a device offers no
// usable modern capabilities (e.g. `-device virtio-net-pci,disable-modern=on`).

import {
  PciFunction, BarKind, PCI_CAP_VENDOR, PCI_CAP_MSIX, pciFunctionAt, pciFunctionCount, pciBarAddress, pciBarKind,
  pciFindCapability, pciEnableBusMastering,
} from "../pci/pci";
import { pciConfigRead8, pciConfigRead16, pciConfigWrite16, pciConfigRead32 } from "../../kernel/arch/x86_64/pci_config";
import {
  inb, inw, inl, outb, outw, outl, mmioRead8, mmioRead16, mmioRead32, mmioWrite8, mmioWrite16, mmioWrite32, pause,
} from "../../kernel/arch/x86_64/intrinsics";

/** PCI vendor id of every virtio device. */
@inline export const VIRTIO_PCI_VENDOR: u16 = 0x1af4;
@inline const TRANSITIONAL_FIRST: u16 = 0x1000;
@inline const TRANSITIONAL_LAST: u16 = 0x103f;
@inline const MODERN_FIRST: u16 = 0x1040;
@inline const MODERN_LAST: u16 = 0x107f;

// ---- device types (§5) ----
@inline export const VIRTIO_ID_NET: u32 = 1;
@inline export const VIRTIO_ID_ENTROPY: u32 = 4;

// ---- device status bits (§2.1) ----
@inline export const STATUS_ACKNOWLEDGE: u8 = 1;
@inline export const STATUS_DRIVER: u8 = 2;
@inline export const STATUS_DRIVER_OK: u8 = 4;
@inline export const STATUS_FEATURES_OK: u8 = 8;
@inline export const STATUS_NEEDS_RESET: u8 = 64;
@inline export const STATUS_FAILED: u8 = 128;

// ---- reserved feature bits (§6) ----
/** Legacy only: the device accepts any descriptor layout (header and data may share one). */
@inline export const VIRTIO_F_ANY_LAYOUT: u64 = <u64>1 << 27;
/** The device complies with virtio 1.x (mandatory for the modern transport). */
@inline export const VIRTIO_F_VERSION_1: u64 = <u64>1 << 32;

// ---- virtio_pci_cap cfg_type values (§4.1.4) ----
@inline const CAP_COMMON_CFG: u8 = 1;
@inline const CAP_NOTIFY_CFG: u8 = 2;
@inline const CAP_ISR_CFG: u8 = 3;
@inline const CAP_DEVICE_CFG: u8 = 4;
@inline const CAP_CFG_TYPE: u32 = 3;
@inline const CAP_BAR: u32 = 4;
@inline const CAP_OFFSET: u32 = 8;
@inline const CAP_NOTIFY_MULTIPLIER: u32 = 16;

// ---- common configuration offsets (§4.1.4.3) ----
@inline const COMMON_DEVICE_FEATURE_SELECT: u64 = 0x00;
@inline const COMMON_DEVICE_FEATURE: u64 = 0x04;
@inline const COMMON_CONFIG_MSIX_VECTOR: u64 = 0x10;
@inline const COMMON_DRIVER_FEATURE_SELECT: u64 = 0x08;
@inline const COMMON_DRIVER_FEATURE: u64 = 0x0c;
@inline const COMMON_NUM_QUEUES: u64 = 0x12;
@inline const COMMON_DEVICE_STATUS: u64 = 0x14;
@inline const COMMON_CONFIG_GENERATION: u64 = 0x15;
@inline const COMMON_QUEUE_SELECT: u64 = 0x16;
@inline const COMMON_QUEUE_SIZE: u64 = 0x18;
@inline const COMMON_QUEUE_MSIX_VECTOR: u64 = 0x1a;
@inline const COMMON_QUEUE_ENABLE: u64 = 0x1c;
@inline const COMMON_QUEUE_NOTIFY_OFF: u64 = 0x1e;
@inline const COMMON_QUEUE_DESC: u64 = 0x20;
@inline const COMMON_QUEUE_DRIVER: u64 = 0x28;
@inline const COMMON_QUEUE_DEVICE: u64 = 0x30;
/** "No MSI-X vector": the queue does not interrupt through MSI-X. */
@inline export const VIRTIO_MSI_NO_VECTOR: u16 = 0xffff;

// ---- MSI-X (PCI Local Bus 3.0 §6.8.2) ----
@inline const MSIX_CONTROL: u32 = 2;
@inline const MSIX_TABLE: u32 = 4;
@inline const MSIX_CONTROL_TABLE_SIZE: u16 = 0x7ff;
@inline const MSIX_CONTROL_FUNCTION_MASK: u16 = 1 << 14;
@inline const MSIX_CONTROL_ENABLE: u16 = 1 << 15;
@inline const MSIX_ENTRY_BYTES: u64 = 16;
@inline const MSIX_ENTRY_ADDRESS_LOW: u64 = 0;
@inline const MSIX_ENTRY_ADDRESS_HIGH: u64 = 4;
@inline const MSIX_ENTRY_DATA: u64 = 8;
@inline const MSIX_ENTRY_CONTROL: u64 = 12;
@inline const MSIX_ENTRY_MASKED: u32 = 1;
/** Local APIC message address window (Intel SDM Vol. 3A §11.11.1). */
@inline const MSI_ADDRESS_BASE: u32 = 0xfee0_0000;
@inline const MSI_ADDRESS_DEST_SHIFT: u32 = 12;

// ---- legacy I/O registers (§4.1.4.8) ----
@inline const LEGACY_DEVICE_FEATURES: u16 = 0x00;
@inline const LEGACY_DRIVER_FEATURES: u16 = 0x04;
@inline const LEGACY_QUEUE_PFN: u16 = 0x08;
@inline const LEGACY_QUEUE_SIZE: u16 = 0x0c;
@inline const LEGACY_QUEUE_SELECT: u16 = 0x0e;
@inline const LEGACY_QUEUE_NOTIFY: u16 = 0x10;
@inline const LEGACY_DEVICE_STATUS: u16 = 0x12;
@inline const LEGACY_ISR: u16 = 0x13;
@inline const LEGACY_DEVICE_CONFIG: u16 = 0x14;
/** With MSI-X enabled (§4.1.4.8): config vector, queue vector, then the device configuration. */
@inline const LEGACY_MSIX_CONFIG_VECTOR: u16 = 0x14;
@inline const LEGACY_MSIX_QUEUE_VECTOR: u16 = 0x16;
@inline const LEGACY_DEVICE_CONFIG_MSIX: u16 = 0x18;
/** Legacy queue addresses are given in 4 KiB page frames. */
@inline const LEGACY_PFN_SHIFT: u32 = 12;

/** Most queues a device may use through this transport. */
@inline export const MAX_QUEUES: i32 = 8;
/** Polls of the status register while waiting for a reset to complete. */
@inline const RESET_SPINS: i32 = 1_000_000;
/** First BAR address we cannot reach: only the first 4 GiB are identity-mapped. */
@inline const MAPPED_LIMIT: u64 = <u64>1 << 32;

/** The virtio device type of PCI function `f`, or 0 when it is not a virtio device. */
export function virtioDeviceType(f: PciFunction): u32 {
  if (f.vendorId != VIRTIO_PCI_VENDOR) return 0;
  if (f.deviceId >= MODERN_FIRST && f.deviceId <= MODERN_LAST) return <u32>(f.deviceId - MODERN_FIRST);
  if (f.deviceId >= TRANSITIONAL_FIRST && f.deviceId <= TRANSITIONAL_LAST) return <u32>f.subsystemId;
  return 0;
}

/** Index in the PCI function table of the first virtio device of `type` at or after `from`, or -1. */
export function virtioFind(type: u32, from: i32 = 0): i32 {
  for (let i = from, n = pciFunctionCount(); i < n; i++) {
    if (virtioDeviceType(pciFunctionAt(i)) == type) return i;
  }
  return -1;
}

/** One virtio device reached over PCI through either transport. */
export class VirtioPciTransport {
  bdf: u32 = 0;
  deviceType: u32 = 0;
  /** True: capabilities (MMIO); false: legacy I/O BAR0. */
  modern: bool = false;
  /** Features both sides agreed on (valid after begin()). */
  features: u64 = 0;
  // modern: MMIO addresses of the structures
  private common: u64 = 0;
  private notifyBase: u64 = 0;
  private notifyMultiplier: u32 = 0;
  private isr: u64 = 0;
  private deviceConfig: u64 = 0;
  // legacy: I/O port base of BAR0
  private io: u16 = 0;
  /** queue_notify_off of each queue (modern). */
  private notifyOff: StaticArray<u16> = new StaticArray<u16>(MAX_QUEUES);
  /** MSI-X table (MMIO) and its entries; 0 when the function has no usable MSI-X. */
  private msixTable: u64 = 0;
  msixEntries: u32 = 0;
  /** True once MSI-X is enabled in the capability (legacy: device config moves to 0x18). */
  msixEnabled: bool = false;

  /**
   * Attaches to PCI function `f`: modern transport when its capabilities are usable, otherwise
   * the legacy one. Returns null when neither is. Turns on decoding and bus mastering.
   */
  static attach(f: PciFunction): VirtioPciTransport | null {
    const t = new VirtioPciTransport();
    t.bdf = f.bdf;
    t.deviceType = virtioDeviceType(f);
    if (t.deviceType == 0) return null;
    pciEnableBusMastering(f.bdf);
    if (t.findModernCapabilities()) {
      t.modern = true;
      return t;
    }
    if (pciBarKind(f.bdf, 0) == BarKind.IO && f.deviceId <= TRANSITIONAL_LAST) {
      t.io = <u16>pciBarAddress(f.bdf, 0);
      if (t.io != 0) return t;
    }
    return null;
  }

  /** Walks the vendor capabilities (§4.1.4), keeping the first of each type that is reachable. */
  private findModernCapabilities(): bool {
    const bdf = this.bdf;
    let at = pciFindCapability(bdf, PCI_CAP_VENDOR);
    while (at != 0) {
      const type = pciConfigRead8(bdf, at + CAP_CFG_TYPE);
      const bar = <u32>pciConfigRead8(bdf, at + CAP_BAR);
      const kind = bar <= 5 ? pciBarKind(bdf, bar) : BarKind.NONE;
      const base = pciBarAddress(bdf, bar);
      if ((kind == BarKind.MEM32 || kind == BarKind.MEM64) && base != 0 && base < MAPPED_LIMIT) {
        const address = base + <u64>pciConfigRead32(bdf, at + CAP_OFFSET);
        if (type == CAP_COMMON_CFG && this.common == 0) this.common = address;
        else if (type == CAP_NOTIFY_CFG && this.notifyBase == 0) {
          this.notifyBase = address;
          this.notifyMultiplier = pciConfigRead32(bdf, at + CAP_NOTIFY_MULTIPLIER);
        } else if (type == CAP_ISR_CFG && this.isr == 0) this.isr = address;
        else if (type == CAP_DEVICE_CFG && this.deviceConfig == 0) this.deviceConfig = address;
      }
      at = pciFindCapability(bdf, PCI_CAP_VENDOR, at);
    }
    return this.common != 0 && this.notifyBase != 0 && this.isr != 0;
  }

  // ---- device status (§2.1) ----

  status(): u8 {
    return this.modern ? mmioRead8(this.common + COMMON_DEVICE_STATUS) : inb(this.io + LEGACY_DEVICE_STATUS);
  }

  private setStatus(v: u8): void {
    if (this.modern) mmioWrite8(this.common + COMMON_DEVICE_STATUS, v);
    else outb(this.io + LEGACY_DEVICE_STATUS, v);
  }

  /** Sets `bits` in the status register, keeping the ones already set. */
  addStatus(bits: u8): void {
    this.setStatus(this.status() | bits);
  }

  /** Writes 0 to the status register and waits until the device reads back 0 (§4.1.4.3.2). */
  reset(): bool {
    this.setStatus(0);
    for (let i = 0; i < RESET_SPINS; i++) {
      if (this.status() == 0) return true;
      pause();
    }
    return false;
  }

  // ---- features (§2.2, §3.1.1 steps 1-6) ----

  /** Feature bits the device offers (legacy: only bits 0-31 exist). */
  deviceFeatures(): u64 {
    if (!this.modern) return <u64>inl(this.io + LEGACY_DEVICE_FEATURES);
    mmioWrite32(this.common + COMMON_DEVICE_FEATURE_SELECT, 0);
    const low = mmioRead32(this.common + COMMON_DEVICE_FEATURE);
    mmioWrite32(this.common + COMMON_DEVICE_FEATURE_SELECT, 1);
    const high = mmioRead32(this.common + COMMON_DEVICE_FEATURE);
    return (<u64>high << 32) | <u64>low;
  }

  private writeDriverFeatures(f: u64): void {
    if (!this.modern) {
      outl(this.io + LEGACY_DRIVER_FEATURES, <u32>f);
      return;
    }
    mmioWrite32(this.common + COMMON_DRIVER_FEATURE_SELECT, 0);
    mmioWrite32(this.common + COMMON_DRIVER_FEATURE, <u32>f);
    mmioWrite32(this.common + COMMON_DRIVER_FEATURE_SELECT, 1);
    mmioWrite32(this.common + COMMON_DRIVER_FEATURE, <u32>(f >> 32));
  }

  /**
   * §3.1.1 steps 1-6: reset, ACKNOWLEDGE, DRIVER, negotiate `wanted` (VERSION_1 is added on the
   * modern transport, ANY_LAYOUT on the legacy one), FEATURES_OK and its check. Queues are set up
   * next, then finish(). Returns false (status FAILED set) when the device refuses.
   */
  begin(wanted: u64): bool {
    if (!this.reset()) return false;
    this.addStatus(STATUS_ACKNOWLEDGE);
    this.addStatus(STATUS_DRIVER);
    const offered = this.deviceFeatures();
    const ask = this.modern ? wanted | VIRTIO_F_VERSION_1 : (wanted | VIRTIO_F_ANY_LAYOUT) & 0xffff_ffff;
    this.features = offered & ask;
    if (this.modern && (this.features & VIRTIO_F_VERSION_1) == 0) return this.fail();
    this.writeDriverFeatures(this.features);
    if (this.modern) {
      // Legacy devices have no FEATURES_OK (§4.1.4.8): the features are fixed once written.
      this.addStatus(STATUS_FEATURES_OK);
      if ((this.status() & STATUS_FEATURES_OK) == 0) return this.fail();
    }
    return true;
  }

  /** §3.1.1 step 8: DRIVER_OK. The device is live afterwards. */
  finish(): bool {
    this.addStatus(STATUS_DRIVER_OK);
    return (this.status() & (STATUS_FAILED | STATUS_NEEDS_RESET)) == 0;
  }

  private fail(): bool {
    this.addStatus(STATUS_FAILED);
    return false;
  }

  /** True when the negotiated features include all of `bits`. */
  @inline has(bits: u64): bool {
    return (this.features & bits) == bits;
  }

  // ---- virtqueues (§4.1.5.1.3) ----

  /** Number of queues the device has (legacy: not reported; MAX_QUEUES). */
  queueCount(): u32 {
    return this.modern ? <u32>mmioRead16(this.common + COMMON_NUM_QUEUES) : <u32>MAX_QUEUES;
  }

  /** Largest size queue `index` supports (legacy: its fixed size); 0 when it does not exist. */
  queueMaxSize(index: u32): u32 {
    if (this.modern) {
      mmioWrite16(this.common + COMMON_QUEUE_SELECT, <u16>index);
      return <u32>mmioRead16(this.common + COMMON_QUEUE_SIZE);
    }
    outw(this.io + LEGACY_QUEUE_SELECT, <u16>index);
    return <u32>inw(this.io + LEGACY_QUEUE_SIZE);
  }

  /**
   * Gives queue `index` its rings and enables it. Modern: any `size` up to the maximum and three
   * separate addresses. Legacy: `size` must equal queueMaxSize() and the rings must follow the
   * legacy layout from `desc` (§2.7.2 legacy interfaces), which Virtqueue always uses.
   */
  activateQueue(index: u32, size: u32, desc: usize, driverArea: usize, deviceArea: usize): bool {
    if (index >= <u32>MAX_QUEUES) return false;
    if (!this.modern) {
      outw(this.io + LEGACY_QUEUE_SELECT, <u16>index);
      if (<u32>inw(this.io + LEGACY_QUEUE_SIZE) != size) return false;
      outl(this.io + LEGACY_QUEUE_PFN, <u32>(desc >> LEGACY_PFN_SHIFT));
      return true;
    }
    const c = this.common;
    mmioWrite16(c + COMMON_QUEUE_SELECT, <u16>index);
    mmioWrite16(c + COMMON_QUEUE_SIZE, <u16>size);
    mmioWrite16(c + COMMON_QUEUE_MSIX_VECTOR, VIRTIO_MSI_NO_VECTOR);
    writeLe64(c + COMMON_QUEUE_DESC, <u64>desc);
    writeLe64(c + COMMON_QUEUE_DRIVER, <u64>driverArea);
    writeLe64(c + COMMON_QUEUE_DEVICE, <u64>deviceArea);
    unchecked(this.notifyOff[index] = mmioRead16(c + COMMON_QUEUE_NOTIFY_OFF));
    mmioWrite16(c + COMMON_QUEUE_ENABLE, 1);
    return true;
  }

  /** Tells the device that queue `index` has new available buffers (§4.1.4.4 / legacy notify). */
  notify(index: u32): void {
    if (this.modern) {
      const off = <u64>unchecked(this.notifyOff[index & (MAX_QUEUES - 1)]);
      mmioWrite16(this.notifyBase + off * <u64>this.notifyMultiplier, <u16>index);
    } else {
      outw(this.io + LEGACY_QUEUE_NOTIFY, <u16>index);
    }
  }

  // ---- MSI-X (PCI Local Bus 3.0 §6.8.2, virtio 1.2 §4.1.5.1.2) ----

  /**
   * Enables MSI-X with every table entry masked and the configuration-change vector off.
   * Returns the number of table entries, 0 when the function has no usable MSI-X (then it keeps
   * interrupting through INTx, which stays masked by the IOAPIC: the driver polls).
   */
  enableMsix(): u32 {
    const bdf = this.bdf;
    const cap = pciFindCapability(bdf, PCI_CAP_MSIX);
    if (cap == 0) return 0;
    const control = pciConfigRead16(bdf, cap + MSIX_CONTROL);
    const tableReg = pciConfigRead32(bdf, cap + MSIX_TABLE);
    const bar = tableReg & 7;
    const kind = bar <= 5 ? pciBarKind(bdf, bar) : BarKind.NONE;
    const base = pciBarAddress(bdf, bar);
    if ((kind != BarKind.MEM32 && kind != BarKind.MEM64) || base == 0 || base >= MAPPED_LIMIT) return 0;
    this.msixTable = base + <u64>(tableReg & ~<u32>7);
    this.msixEntries = <u32>(control & MSIX_CONTROL_TABLE_SIZE) + 1;
    for (let i: u32 = 0; i < this.msixEntries; i++) {
      mmioWrite32(this.msixTable + <u64>i * MSIX_ENTRY_BYTES + MSIX_ENTRY_CONTROL, MSIX_ENTRY_MASKED);
    }
    pciConfigWrite16(bdf, cap + MSIX_CONTROL, (control | MSIX_CONTROL_ENABLE) & ~MSIX_CONTROL_FUNCTION_MASK);
    this.msixEnabled = true;
    if (this.modern) mmioWrite16(this.common + COMMON_CONFIG_MSIX_VECTOR, VIRTIO_MSI_NO_VECTOR);
    else outw(this.io + LEGACY_MSIX_CONFIG_VECTOR, VIRTIO_MSI_NO_VECTOR);
    return this.msixEntries;
  }

  /** Points MSI-X table entry `entry` at `vector` on local APIC `apicId` and unmasks it. */
  msixRoute(entry: u32, vector: u32, apicId: u32): bool {
    if (entry >= this.msixEntries) return false;
    const e = this.msixTable + <u64>entry * MSIX_ENTRY_BYTES;
    mmioWrite32(e + MSIX_ENTRY_CONTROL, MSIX_ENTRY_MASKED);
    mmioWrite32(e + MSIX_ENTRY_ADDRESS_LOW, MSI_ADDRESS_BASE | (apicId << MSI_ADDRESS_DEST_SHIFT));
    mmioWrite32(e + MSIX_ENTRY_ADDRESS_HIGH, 0);
    mmioWrite32(e + MSIX_ENTRY_DATA, vector & 0xff);
    mmioWrite32(e + MSIX_ENTRY_CONTROL, 0);
    return true;
  }

  /**
   * Makes queue `index` signal used buffers through MSI-X entry `entry` (VIRTIO_MSI_NO_VECTOR:
   * never). Returns false when the device refused the entry (it reads back NO_VECTOR).
   */
  setQueueVector(index: u32, entry: u16): bool {
    if (this.modern) {
      mmioWrite16(this.common + COMMON_QUEUE_SELECT, <u16>index);
      mmioWrite16(this.common + COMMON_QUEUE_MSIX_VECTOR, entry);
      return mmioRead16(this.common + COMMON_QUEUE_MSIX_VECTOR) == entry;
    }
    outw(this.io + LEGACY_QUEUE_SELECT, <u16>index);
    outw(this.io + LEGACY_MSIX_QUEUE_VECTOR, entry);
    return inw(this.io + LEGACY_MSIX_QUEUE_VECTOR) == entry;
  }

  /** Reads and thereby clears the ISR status (bit 0: queue interrupt, bit 1: config change). */
  readIsr(): u8 {
    return this.modern ? mmioRead8(this.isr) : inb(this.io + LEGACY_ISR);
  }

  // ---- device-specific configuration ----

  /** Modern: config_generation (§4.1.4.3); legacy: always 0. Re-read multi-field configs until stable. */
  configGeneration(): u8 {
    return this.modern ? mmioRead8(this.common + COMMON_CONFIG_GENERATION) : 0;
  }

  configRead8(offset: u32): u8 {
    if (this.modern) return this.deviceConfig == 0 ? 0 : mmioRead8(this.deviceConfig + <u64>offset);
    return inb(this.legacyConfig() + <u16>offset);
  }

  configRead16(offset: u32): u16 {
    if (this.modern) return this.deviceConfig == 0 ? 0 : mmioRead16(this.deviceConfig + <u64>offset);
    return inw(this.legacyConfig() + <u16>offset);
  }

  configRead32(offset: u32): u32 {
    if (this.modern) return this.deviceConfig == 0 ? 0 : mmioRead32(this.deviceConfig + <u64>offset);
    return inl(this.legacyConfig() + <u16>offset);
  }

  /** Port of the legacy device configuration: it moves behind the MSI-X registers (§4.1.4.8). */
  private legacyConfig(): u16 {
    return this.io + (this.msixEnabled ? LEGACY_DEVICE_CONFIG_MSIX : LEGACY_DEVICE_CONFIG);
  }
}

/** A le64 register written as two 32-bit halves, low first (§4.1.3.1 allows this). */
function writeLe64(address: u64, v: u64): void {
  mmioWrite32(address, <u32>v);
  mmioWrite32(address + 4, <u32>(v >> 32));
}
