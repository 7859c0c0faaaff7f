// virtio-net: one receive and one transmit queue, polled; Ethernet frames in and out.
//
// After: Virtual I/O Device (VIRTIO) Version 1.2
//   §5.1.3 feature bits (MAC, STATUS; VERSION_1 through the transport)
//   §5.1.4 device configuration layout (mac[6] at 0, le16 status at 6)
//   §5.1.5 device initialization (receiveq1 = queue 0, transmitq1 = queue 1; fill receiveq)
//   §5.1.6 device operation: the virtio_net_hdr in front of every frame, both directions
//   §5.1.6.3.1 receive buffers: without MRG_RXBUF / GUEST_TSO each buffer holds a whole frame
//
//   struct virtio_net_hdr (§5.1.6)               12 bytes with VERSION_1 (or MRG_RXBUF);
//   +0 u8   flags        +1 u8 gso_type           the legacy transport without MRG_RXBUF
//   +2 le16 hdr_len      +4 le16 gso_size         has no num_buffers: 10 bytes
//   +6 le16 csum_start   +8 le16 csum_offset
//   +10 le16 num_buffers
//
//   every buffer (BUFFER_BYTES, static):  [ virtio_net_hdr | Ethernet frame (<= 1514 bytes) ]
//                                         ^ descriptor addr ^ pointer handed to the caller
//
// Receive: every receive buffer is posted at start-up, so the ring is full; receive() hands out a
// frame in place (no copy) and release() posts its buffer again. Reposts are published in one
// batch (one avail.idx store, at most one notification) by the next receive() or flush().
// Transmit: txBuffer() lends a free transmit buffer, transmit() queues it, flush() publishes
// everything queued with one kick; completed buffers are reclaimed by txBuffer() and reclaim().
//
// Buffers come from two kernel packet pools (kernel/runtime/pool.ts), created once at attach():
// the receive pool's buffers all sit in the receive ring (in use = ring size), the transmit pool's
// in-use count is the number of frames in flight. Rings stay static (memory.data). Nothing here
// allocates after attach(); one instance (static rings).
//
// Interrupts (optional, enableInterrupts()): one MSI-X vector for both queues. Notifications stay
// suppressed while the stack polls; armInterrupts() asks for one before the CPU idles, and
// disarmInterrupts() suppresses them again when it fires (net/platform/kernel.ts drives this).

import { VirtioPciTransport, VIRTIO_ID_NET, VIRTIO_MSI_NO_VECTOR, virtioFind } from "./pci_transport";
import { Virtqueue, virtqueueBytes, MAX_QUEUE_SIZE } from "./virtqueue";
import { pciFunctionAt } from "../pci/pci";
import { BufferPool, createPool } from "../../kernel/runtime/pool";
import { allocateVector } from "../../kernel/arch/x86_64/interrupts";
import { lapicId } from "../../kernel/arch/x86_64/lapic";

// ---- feature bits (§5.1.3) ----
/** Device has a MAC address in its configuration space. */
@inline export const VIRTIO_NET_F_MAC: u64 = <u64>1 << 5;
/** Device reports link status in its configuration space. */
@inline export const VIRTIO_NET_F_STATUS: u64 = <u64>1 << 16;
/** Receive buffers may be merged (changes the legacy header length). Not requested. */
@inline export const VIRTIO_NET_F_MRG_RXBUF: u64 = <u64>1 << 15;

// ---- configuration layout (§5.1.4) ----
@inline const CONFIG_MAC: u32 = 0;
@inline const CONFIG_STATUS: u32 = 6;
@inline const NET_S_LINK_UP: u16 = 1;

@inline const RECEIVEQ: u32 = 0;
@inline const TRANSMITQ: u32 = 1;

/** virtio_net_hdr with num_buffers (VERSION_1). */
@inline export const NET_HDR_BYTES: u32 = 12;
/** Legacy header without num_buffers. */
@inline export const NET_HDR_LEGACY_BYTES: u32 = 10;
/** Largest frame without FCS: 14-byte Ethernet header + 1500-byte MTU. */
@inline export const MAX_FRAME_BYTES: u32 = 1514;
/** One receive or transmit buffer: header + the largest frame, rounded to a power of two (a pool size). */
@inline const BUFFER_BYTES: u32 = 2048;
/** Receive buffers: one per descriptor of the largest receive queue we accept. */
@inline const RX_BUFFERS: u32 = MAX_QUEUE_SIZE;
/** Transmit buffers: frames in flight at once. */
@inline const TX_BUFFERS: u32 = 64;
/** Descriptors we ask for (modern; legacy queues have the device's fixed size). */
@inline const WANTED_QUEUE_SIZE: u32 = 256;
/** Attempts to read a stable configuration (config_generation unchanged). */
@inline const CONFIG_RETRIES: i32 = 8;

@inline const RING_BYTES: usize = 12288; // virtqueueBytes(MAX_QUEUE_SIZE), asserted in attach()
const rxRing = memory.data(<i32>RING_BYTES, 4096);
const txRing = memory.data(<i32>RING_BYTES, 4096);
/** MSI-X table entry both queues signal through. */
@inline const MSIX_ENTRY: u16 = 0;
let attached = false;

export class VirtioNet {
  transport: VirtioPciTransport;
  rx: Virtqueue;
  tx: Virtqueue;
  /** virtio_net_hdr length in use: 12 (modern) or 10 (legacy). */
  headerBytes: u32;
  /** Length of the frame the last receive() returned. */
  rxLength: u32 = 0;
  // counters
  rxFrames: u64 = 0;
  txFrames: u64 = 0;
  rxErrors: u64 = 0;
  /** Receive buffers (all posted) and transmit buffers (in use = in flight). */
  rxPool: BufferPool;
  txPool: BufferPool;
  /** Interrupt vector of both queues (MSI-X), 0 when the driver only polls. */
  vector: u32 = 0;
  private mac: StaticArray<u8> = new StaticArray<u8>(6);

  private constructor(transport: VirtioPciTransport, rx: Virtqueue, tx: Virtqueue, rxPool: BufferPool, txPool: BufferPool) {
    this.transport = transport;
    this.rx = rx;
    this.tx = tx;
    this.rxPool = rxPool;
    this.txPool = txPool;
    this.headerBytes = transport.modern ? NET_HDR_BYTES : NET_HDR_LEGACY_BYTES;
  }

  /**
   * Finds the first virtio-net PCI function (after PCI enumeration) and brings it up, following
   * §3.1.1 / §5.1.5: negotiate, set up both queues, fill the receive queue, DRIVER_OK.
   * `interrupts`: also route both queues to an MSI-X vector (see enableInterrupts; without MSI-X
   * the driver polls). Returns null when there is none or it cannot be driven (or one is already
   * attached).
   */
  static attach(interrupts: bool = false): VirtioNet | null {
    if (attached || virtqueueBytes(MAX_QUEUE_SIZE) != RING_BYTES) return null;
    const index = virtioFind(VIRTIO_ID_NET);
    if (index < 0) return null;
    const t = VirtioPciTransport.attach(pciFunctionAt(index));
    if (t == null) return null;
    if (!t.begin(VIRTIO_NET_F_MAC | VIRTIO_NET_F_STATUS)) return null;
    const rx = Virtqueue.create(t, RECEIVEQ, rxRing, RING_BYTES, WANTED_QUEUE_SIZE);
    const tx = Virtqueue.create(t, TRANSMITQ, txRing, RING_BYTES, WANTED_QUEUE_SIZE);
    if (rx == null || tx == null) return null;
    const posted = min(rx.size, RX_BUFFERS);
    const rxPool = createPool(BUFFER_BYTES, posted);
    const txPool = createPool(BUFFER_BYTES, TX_BUFFERS);
    if (rxPool == null || txPool == null) return null;
    const net = new VirtioNet(t, rx, tx, rxPool, txPool);
    net.readMac();
    if (interrupts) net.enableInterrupts();
    // §5.1.5: receive buffers should be in place before DRIVER_OK.
    for (let i: u32 = 0; i < posted; i++) {
      rx.add(rxPool.alloc(), BUFFER_BYTES, true);
    }
    if (!t.finish()) return null;
    rx.kick();
    attached = true;
    return net;
  }

  /** True when the modern (virtio 1.x) transport is in use, false for legacy. */
  @inline get modern(): bool {
    return this.transport.modern;
  }

  /** Byte `i` (0-5) of the MAC address. */
  macByte(i: i32): u8 {
    return this.mac[i];
  }

  /** The MAC address as a 48-bit number, first byte most significant. */
  macAddress(): u64 {
    let v: u64 = 0;
    for (let i = 0; i < 6; i++) v = (v << 8) | <u64>this.mac[i];
    return v;
  }

  /** Link state from the configuration space; without VIRTIO_NET_F_STATUS the link is up. */
  linkUp(): bool {
    if (!this.transport.has(VIRTIO_NET_F_STATUS)) return true;
    return (this.transport.configRead16(CONFIG_STATUS) & NET_S_LINK_UP) != 0;
  }

  private readMac(): void {
    const t = this.transport;
    if (!t.has(VIRTIO_NET_F_MAC)) {
      // A locally administered unicast address (§5.1.5: the driver then picks one).
      this.mac[0] = 0x02;
      for (let i = 1; i < 6; i++) this.mac[i] = <u8>i;
      return;
    }
    for (let attempt = 0; attempt < CONFIG_RETRIES; attempt++) {
      const generation = t.configGeneration();
      for (let i = 0; i < 6; i++) this.mac[i] = t.configRead8(CONFIG_MAC + <u32>i);
      if (t.configGeneration() == generation) return;
    }
  }

  // ---- receive ----

  /**
   * The next received frame, in place: returns a pointer to its first byte (Ethernet header;
   * length in rxLength) or 0 when nothing arrived. Hand it back with release().
   * Also publishes buffers released since the last call.
   */
  receive(): usize {
    this.rx.kick();
    while (true) {
      const id = this.rx.popUsed();
      if (id < 0) return 0;
      const buffer = this.rx.descAddr(id);
      const written = this.rx.usedLen;
      if (written < this.headerBytes || written - this.headerBytes > BUFFER_BYTES - this.headerBytes) {
        this.rxErrors++;
        this.rx.add(buffer, BUFFER_BYTES, true);
        continue;
      }
      this.rxLength = written - this.headerBytes;
      this.rxFrames++;
      return buffer + <usize>this.headerBytes;
    }
  }

  /** Returns a frame from receive() to the receive ring (published by the next receive/flush). */
  release(frame: usize): void {
    this.rx.add(frame - <usize>this.headerBytes, BUFFER_BYTES, true);
  }

  // ---- transmit ----

  /** Returns completed transmit buffers to the transmit pool; returns how many. */
  reclaim(): i32 {
    let n = 0;
    while (true) {
      const id = this.tx.popUsed();
      if (id < 0) return n;
      this.giveBack(this.tx.descAddr(id));
      n++;
    }
  }

  /** Returns the transmit buffer starting at `buffer` (header included) to the pool. */
  @inline private giveBack(buffer: usize): void {
    this.txPool.free(buffer);
  }

  /**
   * A free transmit buffer: returns where the frame's first byte goes (room for MAX_FRAME_BYTES),
   * or 0 when every buffer is in flight. Pass it to transmit() next.
   */
  txBuffer(): usize {
    if (this.tx.hasUsed()) this.reclaim();
    const buffer = this.txPool.alloc();
    if (buffer == 0) return 0;
    return buffer + <usize>this.headerBytes;
  }

  // ---- interrupts (MSI-X; virtio 1.2 §4.1.5.1.2, §2.7.10) ----

  /**
   * Routes both queues to MSI-X entry 0 and that entry to a fresh vector on this CPU's local APIC;
   * notifications stay suppressed until armInterrupts(). Returns false (vector 0: poll only) when
   * the device has no MSI-X or refuses the entry. Before DRIVER_OK.
   */
  enableInterrupts(): bool {
    const t = this.transport;
    if (t.enableMsix() == 0) return false;
    const vector = allocateVector();
    if (vector == 0 || !t.msixRoute(<u32>MSIX_ENTRY, vector, lapicId())) return false;
    if (!t.setQueueVector(RECEIVEQ, MSIX_ENTRY) || !t.setQueueVector(TRANSMITQ, MSIX_ENTRY)) {
      t.setQueueVector(RECEIVEQ, VIRTIO_MSI_NO_VECTOR);
      t.setQueueVector(TRANSMITQ, VIRTIO_MSI_NO_VECTOR);
      return false;
    }
    this.vector = vector;
    return true;
  }

  /**
   * Before idling: reclaims finished transmits, then asks for an interrupt at the next received
   * frame (and the next transmit completion while frames are in flight). Returns false, leaving
   * notifications suppressed, when there is no vector or work is already waiting (poll again).
   */
  armInterrupts(): bool {
    if (this.vector == 0) return false;
    this.reclaim();
    let quiet = this.rx.enableInterrupt();
    if (quiet && this.txPool.inUse > 0) quiet = this.tx.enableInterrupt();
    if (!quiet) this.disarmInterrupts();
    return quiet;
  }

  /** Suppresses notifications on both queues (the fast path polls). */
  disarmInterrupts(): void {
    this.rx.disableInterrupt();
    this.tx.disableInterrupt();
  }

  /**
   * Queues `len` bytes at `frame` (from txBuffer()) for transmission with an all-zero header (no
   * checksum offload, no GSO). Not published until flush(). Returns false (buffer taken back) when
   * `len` is too long or the queue has no free descriptor.
   */
  transmit(frame: usize, len: u32): bool {
    const buffer = frame - <usize>this.headerBytes;
    if (len > MAX_FRAME_BYTES) {
      this.giveBack(buffer);
      return false;
    }
    memory.fill(buffer, 0, <usize>this.headerBytes);
    if (this.tx.add(buffer, this.headerBytes + len, false) < 0) {
      // Only when the queue is smaller than TX_BUFFERS: the buffer goes back unsent.
      this.giveBack(buffer);
      return false;
    }
    this.txFrames++;
    return true;
  }

  /** Returns a buffer from txBuffer() unsent. */
  discard(frame: usize): void {
    this.giveBack(frame - <usize>this.headerBytes);
  }

  /** Publishes queued frames and released receive buffers, one kick per queue at most. */
  flush(): void {
    this.tx.kick();
    this.rx.kick();
  }

  /** Copies `len` bytes at `src` into a transmit buffer and sends it now. */
  send(src: usize, len: u32): bool {
    if (len > MAX_FRAME_BYTES) return false;
    const frame = this.txBuffer();
    if (frame == 0) return false;
    memory.copy(frame, src, <usize>len);
    if (!this.transmit(frame, len)) return false;
    this.tx.kick();
    return true;
  }
}
