// A software NetDevice for tests (and a model for drivers): frames live in PacketPool buffers
// and move through fixed rings. Transmitted frames go to the `peer` device's receive ring
// (two interfaces on one wire), or stay in this device's capture ring for a test to read
// (`takeTx`). Nothing allocates after construction.
// (Ethernet framing per RFC 894.)
// May import: ../device, ../wire/bytes.

import { NetDevice, PacketPool, PacketRef } from "../device";
import { copyBytes, zeroedArray } from "../wire/bytes";

// @ts-ignore: decorator
@inline const RING_SIZE: i32 = 64;

/** A fixed ring of (buffer, length) pairs. */
export class FrameRing {
  ptrs: StaticArray<usize> = zeroedArray<usize>(RING_SIZE);
  lens: StaticArray<i32> = zeroedArray<i32>(RING_SIZE);
  head: i32 = 0;
  count: i32 = 0;

  push(ptr: usize, len: i32): bool {
    if (this.count == RING_SIZE) return false;
    const i = (this.head + this.count) % RING_SIZE;
    unchecked((this.ptrs[i] = ptr));
    unchecked((this.lens[i] = len));
    this.count++;
    return true;
  }

  pop(out: PacketRef): bool {
    if (this.count == 0) return false;
    out.ptr = unchecked(this.ptrs[this.head]);
    out.len = unchecked(this.lens[this.head]);
    this.head = (this.head + 1) % RING_SIZE;
    this.count--;
    return true;
  }
}

export class LoopbackDevice extends NetDevice {
  peer: LoopbackDevice | null = null;
  rx: FrameRing = new FrameRing();
  captured: FrameRing = new FrameRing();
  /** Frames lost because a ring was full or the pool empty. */
  overruns: u64 = 0;
  /** Buffers the stack currently holds for transmit (txBuffer without transmit/txDiscard). */
  txOutstanding: i32 = 0;
  /** When > 0, only this many more TX buffers are handed out (tests of a full TX ring). */
  txLimit: i32 = -1;

  constructor(private mac: u64, private pool: PacketPool, private mtuBytes: i32 = 1500) {
    super();
  }

  macAddress(): u64 { return this.mac; }
  mtu(): i32 { return this.mtuBytes; }

  receive(out: PacketRef): bool { return this.rx.pop(out); }
  release(ptr: usize): void { this.pool.free(ptr); }

  txBuffer(): usize {
    if (this.txLimit == 0) return 0;
    const p = this.pool.alloc();
    if (p == 0) return 0;
    if (this.txLimit > 0) this.txLimit--;
    this.txOutstanding++;
    return p;
  }

  transmit(ptr: usize, len: i32): void {
    this.txOutstanding--;
    const peer = this.peer;
    const ok = peer !== null ? peer.rx.push(ptr, len) : this.captured.push(ptr, len);
    if (!ok) {
      this.overruns++;
      this.pool.free(ptr);
    }
  }

  txDiscard(ptr: usize): void {
    this.txOutstanding--;
    this.pool.free(ptr);
  }

  /** Copies `len` bytes at `src` into a pool buffer on the receive ring; false if full. */
  inject(src: usize, len: i32): bool {
    const p = this.pool.alloc();
    if (p == 0) {
      this.overruns++;
      return false;
    }
    copyBytes(p, src, len);
    if (!this.rx.push(p, len)) {
      this.pool.free(p);
      this.overruns++;
      return false;
    }
    return true;
  }

  /** Next captured transmitted frame; give its buffer back with `release`. */
  takeTx(out: PacketRef): bool { return this.captured.pop(out); }

  /** Frees every captured frame. */
  dropCaptured(): void {
    while (this.captured.count > 0) {
      this.pool.free(unchecked(this.captured.ptrs[this.captured.head]));
      this.captured.head = (this.captured.head + 1) % RING_SIZE;
      this.captured.count--;
    }
  }
}
