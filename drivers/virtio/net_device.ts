// virtio-net as the network stack's NetDevice (net/device.ts): the stack's receive / release /
// txBuffer / transmit / txDiscard map one to one onto drivers/virtio/net.ts, frames stay in the
// driver's buffers (no copy), nothing allocates per packet.
//
// After: Virtual I/O Device (VIRTIO) Version 1.2 §5.1.6 (device operation) and §2.7.13
// (supplying buffers: publish, then notify; notifications batched).
//
// Notification batching: transmit() publishes and kicks at once unless more received frames are
// already waiting. In that case the stack is in its receive loop (net/interface.ts poll()), and
// the next receive() publishes every reply queued meanwhile with one index store and at most one
// notification. When the loop stops on its frame budget with frames still waiting, the replies
// go out on the next poll (or an explicit flush()).
// May import: net/device.ts (the interface it implements), ./net.

import { NetDevice, PacketRef } from "../../net/device";
import { VirtioNet } from "./net";

/** Ethernet payload size without offloads (no VIRTIO_NET_F_MTU negotiated). */
@inline const MTU: i32 = 1500;

export class VirtioNetDevice extends NetDevice {
  constructor(readonly driver: VirtioNet) {
    super();
  }

  /**
   * Attaches the first virtio-net PCI function (after pciEnumerate()), or returns null.
   * `interrupts`: route its queues to an MSI-X vector (interruptVector(); 0 if that failed).
   */
  static attach(interrupts: bool = false): VirtioNetDevice | null {
    const driver = VirtioNet.attach(interrupts);
    return driver == null ? null : new VirtioNetDevice(driver);
  }

  macAddress(): u64 {
    return this.driver.macAddress();
  }

  mtu(): i32 {
    return MTU;
  }

  receive(out: PacketRef): bool {
    const d = this.driver;
    d.tx.kick(); // replies queued while handling the previous frame go out as one batch
    const frame = d.receive();
    if (frame == 0) return false;
    out.ptr = frame;
    out.len = <i32>d.rxLength;
    return true;
  }

  release(ptr: usize): void {
    this.driver.release(ptr);
  }

  txBuffer(): usize {
    return this.driver.txBuffer();
  }

  transmit(ptr: usize, len: i32): void {
    const d = this.driver;
    if (len < 0 || !d.transmit(ptr, <u32>len)) return; // too long: dropped, buffer taken back
    if (!d.rx.hasUsed()) d.tx.kick();
  }

  txDiscard(ptr: usize): void {
    this.driver.discard(ptr);
  }

  interruptVector(): u32 {
    return this.driver.vector;
  }

  armInterrupt(): bool {
    const d = this.driver;
    d.flush(); // nothing may wait for a kick while we sleep
    return d.armInterrupts();
  }

  disarmInterrupt(): void {
    this.driver.disarmInterrupts();
  }

  /** Publishes everything queued on both rings now. */
  flush(): void {
    this.driver.flush();
  }
}
