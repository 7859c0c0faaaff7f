// Split virtqueue: descriptor table, available ring (driver -> device), used ring (device ->
// driver), free list, batched publication and notification suppression.
//
// After: Virtual I/O Device (VIRTIO) Version 1.2
//   §2.7     split virtqueues; §2.7.2 legacy interfaces: queue layout (QueueAlign = 4096)
//   §2.7.5   the virtqueue descriptor table     §2.7.6 the available ring
//   §2.7.8   the used ring                      §2.7.10 used buffer notification suppression
//   §2.7.13  supplying buffers to the device (13.1-13.4: place, publish index after a write
//            barrier, then notify unless the device suppressed notifications)
//   §2.7.14  receiving used buffers from the device
//
//   descriptor (16 bytes, §2.7.5)                     flags: 1 NEXT, 2 WRITE (device writes),
//   +0 le64 addr  +8 le32 len  +12 le16 flags  +14 le16 next      4 INDIRECT (not used)
//
//   memory block (legacy layout, also valid for the modern transport: every part is aligned)
//   +0                          desc[size]                16 * size bytes
//   +16*size                    avail: le16 flags, le16 idx, le16 ring[size], le16 used_event
//   align up to 4096            used:  le16 flags, le16 idx, {le32 id, le32 len}[size], le16 avail_event
//
// Indices are free-running u16 counters; slot = idx & (size - 1) (size is a power of two).
// The driver owns `availIdx` (its shadow of avail.idx) and publishes it in kick(); buffers added
// between two kicks are made visible with one index store and at most one notification.
// Interrupts start suppressed (VIRTQ_AVAIL_F_NO_INTERRUPT): the driver polls while traffic
// flows and asks for one with enableInterrupt() only before the CPU goes idle (§2.7.10).
//
// Not re-entrant: only the kernel's single thread of control touches a queue.

import { VirtioPciTransport } from "./pci_transport";
import { mfence, lfence, sfence } from "../../kernel/arch/x86_64/intrinsics";

@inline const DESC_BYTES: usize = 16;
@inline const DESC_ADDR: usize = 0;
@inline const DESC_LEN: usize = 8;
@inline const DESC_FLAGS: usize = 12;
@inline const DESC_NEXT: usize = 14;
@inline export const VIRTQ_DESC_F_NEXT: u16 = 1;
@inline export const VIRTQ_DESC_F_WRITE: u16 = 2;

@inline const RING_FLAGS: usize = 0;
@inline const RING_IDX: usize = 2;
@inline const RING_ENTRIES: usize = 4;
@inline const USED_ELEM_BYTES: usize = 8;
/** avail.flags: please do not interrupt when buffers are used (we poll). */
@inline const VIRTQ_AVAIL_F_NO_INTERRUPT: u16 = 1;
/** used.flags: the device does not need a notification for new available buffers. */
@inline const VIRTQ_USED_F_NO_NOTIFY: u16 = 1;

/** Legacy QueueAlign: the used ring starts on a page boundary. */
@inline const QUEUE_ALIGN: usize = 4096;
/** Largest queue this driver sets up (memory is reserved for it). */
@inline export const MAX_QUEUE_SIZE: u32 = 256;
/** Marks the end of the free list. */
@inline const NO_DESC: u16 = 0xffff;

// ---- barriers (x86-64 orders stores with stores and loads with loads, but each fence is an
// import call, so Binaryen cannot move ring accesses across it either) ----

/** virtio_wmb: descriptors and ring slots are visible before the avail index that publishes them. */
@inline function barrierBeforeAvailPublish(): void { sfence(); }
/** virtio_mb: the published avail index is visible before we read the device's used.flags. */
@inline function barrierBeforeNotifyCheck(): void { mfence(); }
/** virtio_rmb: used-ring entries are read only after the used index that covers them. */
@inline function barrierAfterUsedIndexRead(): void { lfence(); }

@inline function alignUp(v: usize, to: usize): usize {
  return (v + to - 1) & ~(to - 1);
}

/** Bytes of the memory block for a queue of `size` entries (legacy layout). */
export function virtqueueBytes(size: u32): usize {
  const s = <usize>size;
  return alignUp(DESC_BYTES * s + RING_ENTRIES + 2 * s + 2, QUEUE_ALIGN) + alignUp(RING_ENTRIES + USED_ELEM_BYTES * s + 2, QUEUE_ALIGN);
}

export class Virtqueue {
  /** Queue number within the device. */
  index: u32 = 0;
  /** Number of descriptors (a power of two). */
  size: u32 = 0;
  /** Descriptors on the free list. */
  numFree: u32 = 0;
  /** Length the device wrote for the last chain popUsed() returned. */
  usedLen: u32 = 0;
  /** Notifications sent (for tests and benchmarks: batching shows here). */
  notifications: u32 = 0;
  private transport: VirtioPciTransport | null = null;
  private desc: usize = 0;
  private avail: usize = 0;
  private used: usize = 0;
  private freeHead: u16 = NO_DESC;
  /** Driver's shadow of avail.idx: entries up to here are written, maybe not yet published. */
  private availIdx: u16 = 0;
  /** avail.idx as last published. */
  private publishedIdx: u16 = 0;
  /** Next used.idx value we have not consumed. */
  private lastUsedIdx: u16 = 0;

  /**
   * Sets up queue `index` of `transport` in `ring` (virtqueueBytes(size) bytes, 4096-aligned,
   * device-reachable) and enables it. `size` is capped to the device's maximum (legacy: must
   * equal it). Returns null when the device has no such queue or refuses it.
   */
  static create(transport: VirtioPciTransport, index: u32, ring: usize, ringBytes: usize, wantedSize: u32): Virtqueue | null {
    const max = transport.queueMaxSize(index);
    if (max == 0) return null;
    let size = transport.modern ? min(max, wantedSize) : max;
    if (size > MAX_QUEUE_SIZE || (size & (size - 1)) != 0) return null;
    if (ring & (QUEUE_ALIGN - 1) || virtqueueBytes(size) > ringBytes) return null;
    const q = new Virtqueue();
    q.transport = transport;
    q.index = index;
    q.size = size;
    q.desc = ring;
    q.avail = ring + DESC_BYTES * <usize>size;
    q.used = ring + alignUp(DESC_BYTES * <usize>size + RING_ENTRIES + 2 * <usize>size + 2, QUEUE_ALIGN);
    memory.fill(ring, 0, virtqueueBytes(size));
    for (let i: u32 = 0; i < size; i++) {
      store<u16>(q.desc + <usize>i * DESC_BYTES, i + 1 < size ? <u16>(i + 1) : NO_DESC, DESC_NEXT);
    }
    q.freeHead = 0;
    q.numFree = size;
    store<u16>(q.avail, VIRTQ_AVAIL_F_NO_INTERRUPT, RING_FLAGS);
    if (!transport.activateQueue(index, size, q.desc, q.avail, q.used)) return null;
    return q;
  }

  /**
   * Places one buffer (a chain of one descriptor) in the next available slot without publishing
   * it. `deviceWritable`: the device fills it (receive) rather than reads it (transmit).
   * Returns the descriptor id, or -1 when no descriptor is free.
   */
  add(addr: usize, len: u32, deviceWritable: bool): i32 {
    if (this.numFree == 0) return -1;
    const head = this.freeHead;
    const d = this.desc + <usize>head * DESC_BYTES;
    this.freeHead = load<u16>(d, DESC_NEXT);
    this.numFree--;
    store<u64>(d, <u64>addr, DESC_ADDR);
    store<u32>(d, len, DESC_LEN);
    store<u16>(d, deviceWritable ? VIRTQ_DESC_F_WRITE : 0, DESC_FLAGS);
    const slot = <usize>(this.availIdx & <u16>(this.size - 1));
    store<u16>(this.avail + RING_ENTRIES + slot * 2, head);
    this.availIdx++;
    return <i32>head;
  }

  /** Entries added since the last kick(). */
  @inline get unpublished(): u32 {
    return <u32>(<u16>(this.availIdx - this.publishedIdx));
  }

  /**
   * Publishes every entry added since the last kick with one avail.idx store, then notifies the
   * device unless it asked not to be (§2.7.13.3-4). Returns true when it notified.
   */
  kick(): bool {
    if (this.availIdx == this.publishedIdx) return false;
    barrierBeforeAvailPublish();
    store<u16>(this.avail, this.availIdx, RING_IDX);
    this.publishedIdx = this.availIdx;
    barrierBeforeNotifyCheck();
    if (load<u16>(this.used, RING_FLAGS) & VIRTQ_USED_F_NO_NOTIFY) return false;
    this.transport!.notify(this.index);
    this.notifications++;
    return true;
  }

  /**
   * Asks the device to signal the next used buffer (clears VIRTQ_AVAIL_F_NO_INTERRUPT), then looks
   * again: returns false when a used buffer is already waiting (the signal may have been skipped
   * while suppressed, so the caller must poll instead of sleeping).
   */
  enableInterrupt(): bool {
    store<u16>(this.avail, 0, RING_FLAGS);
    barrierBeforeNotifyCheck(); // flag visible before we read used.idx (virtio_mb)
    return !this.hasUsed();
  }

  /** Suppresses used-buffer notifications again (the fast path polls). A hint to the device. */
  disableInterrupt(): void {
    store<u16>(this.avail, VIRTQ_AVAIL_F_NO_INTERRUPT, RING_FLAGS);
  }

  /** True when the device has returned a buffer popUsed() has not consumed yet. */
  hasUsed(): bool {
    return load<u16>(this.used, RING_IDX) != this.lastUsedIdx;
  }

  /**
   * Takes the next used buffer: returns its descriptor id (usedLen = bytes the device wrote) and
   * puts its chain back on the free list, or returns -1 when the device has returned nothing new.
   * The descriptor keeps its address until reused: descAddr(id) is valid until the next add().
   */
  popUsed(): i32 {
    const usedIdx = load<u16>(this.used, RING_IDX);
    if (usedIdx == this.lastUsedIdx) return -1;
    barrierAfterUsedIndexRead();
    const slot = <usize>(this.lastUsedIdx & <u16>(this.size - 1));
    const elem = this.used + RING_ENTRIES + slot * USED_ELEM_BYTES;
    const id = load<u32>(elem);
    this.usedLen = load<u32>(elem, 4);
    this.lastUsedIdx++;
    if (id >= this.size) return -1; // a device bug; never put a bad id on the free list
    this.freeChain(<u16>id);
    return <i32>id;
  }

  /** Buffer address of descriptor `id` (what add() stored). */
  @inline descAddr(id: i32): usize {
    return <usize>load<u64>(this.desc + <usize>id * DESC_BYTES, DESC_ADDR);
  }

  private freeChain(head: u16): void {
    let id = head;
    while (true) {
      const d = this.desc + <usize>id * DESC_BYTES;
      const flags = load<u16>(d, DESC_FLAGS);
      const next = load<u16>(d, DESC_NEXT);
      this.numFree++;
      if ((flags & VIRTQ_DESC_F_NEXT) == 0) {
        store<u16>(d, this.freeHead, DESC_NEXT);
        this.freeHead = head;
        return;
      }
      id = next;
    }
  }
}
