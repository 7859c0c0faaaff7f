// A fixed-array PacketPool for Node tests and early boot: `count` buffers of `size` bytes carved
// out of one block at construction, a LIFO free list in a StaticArray. alloc/free are O(1) and
// never allocate. (Buffers sized per RFC 1122 §3.3.3: header + MTU.)
// May import: ./device, ./wire/bytes.

import { PacketPool } from "./device";
import { zeroedArray } from "./wire/bytes";

export class FixedPacketPool extends PacketPool {
  private base: usize;
  private size: i32;
  private count: i32;
  private freeList: StaticArray<usize>;
  private freeCount: i32;

  /** `size` is rounded up to 16 bytes; the block comes from the heap once. */
  constructor(count: i32, size: i32) {
    super();
    const rounded = (size + 15) & ~15;
    this.size = rounded;
    this.count = count;
    this.base = heap.alloc(<usize>(rounded * count));
    this.freeList = zeroedArray<usize>(count);
    for (let i = 0; i < count; i++) {
      unchecked((this.freeList[i] = this.base + <usize>(rounded * (count - 1 - i))));
    }
    this.freeCount = count;
  }

  bufferSize(): i32 {
    return this.size;
  }

  alloc(): usize {
    if (this.freeCount == 0) return 0;
    this.freeCount--;
    return unchecked(this.freeList[this.freeCount]);
  }

  free(ptr: usize): void {
    // A pointer from elsewhere or a double free would corrupt the list: refuse it loudly.
    assert(ptr >= this.base && ptr < this.base + <usize>(this.size * this.count), "pool: foreign buffer");
    assert(this.freeCount < this.count, "pool: double free");
    unchecked((this.freeList[this.freeCount] = ptr));
    this.freeCount++;
  }

  available(): i32 {
    return this.freeCount;
  }

  /** Total buffers. */
  capacity(): i32 {
    return this.count;
  }
}
