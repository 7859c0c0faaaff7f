// virtio-rng (entropy device): one request queue of device-writable buffers the device fills
// with random bytes; polled with a time limit.
//
// After: Virtual I/O Device (VIRTIO) Version 1.2
//   §5.4.2 virtqueues (requestq = queue 0)   §5.4.3 feature bits (none)
//   §5.4.6 device operation: the driver posts write-only buffers; used length = bytes supplied
// Transport and queue: pci_transport.ts (§4.1), virtqueue.ts (§2.7).

import { VirtioPciTransport, VIRTIO_ID_ENTROPY, virtioFind } from "./pci_transport";
import { Virtqueue, virtqueueBytes, MAX_QUEUE_SIZE } from "./virtqueue";
import { pciFunctionAt } from "../pci/pci";
import { readTsc, tscFrequencyHz } from "../../kernel/arch/x86_64/tsc";
import { pause } from "../../kernel/arch/x86_64/intrinsics";
import { entropyAdd } from "../entropy";

@inline const REQUESTQ: u32 = 0;
/** Requests in flight at most (one here: read() waits for each). */
@inline const WANTED_QUEUE_SIZE: u32 = 8;
@inline const RING_BYTES: usize = 12288; // virtqueueBytes(MAX_QUEUE_SIZE), checked in attach()
/** Bytes per request when feeding the entropy pool. */
@inline const POOL_CHUNK: u32 = 32;

const ring = memory.data(<i32>RING_BYTES, 4096);
const chunk = memory.data(<i32>POOL_CHUNK, 16);
let attached = false;

export class VirtioRng {
  transport: VirtioPciTransport;
  queue: Virtqueue;

  private constructor(transport: VirtioPciTransport, queue: Virtqueue) {
    this.transport = transport;
    this.queue = queue;
  }

  /** Brings up the first virtio-rng PCI function (after PCI enumeration), or returns null. */
  static attach(): VirtioRng | null {
    if (attached || virtqueueBytes(MAX_QUEUE_SIZE) != RING_BYTES) return null;
    const index = virtioFind(VIRTIO_ID_ENTROPY);
    if (index < 0) return null;
    const t = VirtioPciTransport.attach(pciFunctionAt(index));
    if (t == null) return null;
    if (!t.begin(0)) return null;
    const q = Virtqueue.create(t, REQUESTQ, ring, RING_BYTES, WANTED_QUEUE_SIZE);
    if (q == null || !t.finish()) return null;
    attached = true;
    return new VirtioRng(t, q);
  }

  /** True when the modern (virtio 1.x) transport is in use, false for legacy. */
  @inline get modern(): bool {
    return this.transport.modern;
  }

  /**
   * Asks for `len` random bytes into `dst` (device-reachable memory) and waits up to
   * `timeoutMicros` for them. Returns how many the device supplied (it may give fewer), or -1 on
   * timeout (the buffer then still belongs to the device: do not reuse it).
   */
  read(dst: usize, len: u32, timeoutMicros: u64 = 1_000_000): i32 {
    if (len == 0) return 0;
    if (this.queue.add(dst, len, true) < 0) return -1;
    this.queue.kick();
    const hz = tscFrequencyHz();
    const limit = hz == 0 ? u64.MAX_VALUE : timeoutMicros * (hz / 1_000_000);
    const start = readTsc();
    while (true) {
      const id = this.queue.popUsed();
      if (id >= 0) return <i32>min(this.queue.usedLen, len);
      if (readTsc() - start > limit) return -1;
      pause();
    }
  }

  /** Reads up to `bytes` random bytes into the entropy pool (drivers/entropy.ts); returns how many. */
  feedPool(bytes: u32): u32 {
    let total: u32 = 0;
    while (total < bytes) {
      const got = this.read(chunk, min(POOL_CHUNK, bytes - total));
      if (got <= 0) break;
      entropyAdd(chunk, <u32>got);
      total += <u32>got;
    }
    return total;
  }
}
