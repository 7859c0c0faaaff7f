// udp-echo: the net/ stack on virtio-net. Answers every UDP datagram to port 7 with the same
// bytes (RFC 862 echo), answers ARP and ping, and ends (status 0) after a datagram "quit".
//
// Run it:  npm run image -- --app apps/udp-echo, then boot the ELF with
//   -netdev user,id=n0,hostfwd=udp:127.0.0.1:7777-:7 -device virtio-net-pci,netdev=n0
// and talk to it: `nc -u 127.0.0.1 7777`. test/drivers/udp_echo.test.ts does it with Node dgram.
// The loop polls (the device's interrupts are suppressed); it never halts.

import { print, println, printU64, newline, microsSinceBoot } from "../../kernel/console";
import { pause } from "../../kernel/arch/x86_64/intrinsics";
import { pciEnumerate } from "../../drivers/pci/pci";
import { VirtioNetDevice } from "../../drivers/virtio/net_device";
import { Interface } from "../../net/interface";
import { IpConfig } from "../../net/config";
import { Clock } from "../../net/platform";
import { FixedPacketPool } from "../../net/pool";
import { UdpSocket } from "../../net/udp_socket";

@inline const ECHO_PORT: u16 = 7;
/** Pool buffers for frames waiting on ARP resolution: one Ethernet frame each. */
@inline const POOL_BUFFERS: i32 = 16;
@inline const POOL_BUFFER_BYTES: i32 = 1536;

class BootClock extends Clock {
  nowMillis(): u64 {
    return microsSinceBoot() / 1000;
  }
}

let running = true;
let echoed: u64 = 0;

function isQuit(p: usize, len: i32): bool {
  // "quit" optionally followed by a newline (nc sends one)
  return (len == 4 || (len == 5 && load<u8>(p + 4) == 0x0a)) && load<u32>(p) == 0x74697571;
}

function onDatagram(socket: UdpSocket, srcAddr: u32, srcPort: u16, payload: usize, len: i32): void {
  if (isQuit(payload, len)) {
    running = false;
    return;
  }
  if (socket.sendTo(srcAddr, srcPort, payload, len)) echoed++;
}

/** Called by the boot stub after the kernel's `_start`. */
export function main(): void {
  pciEnumerate();
  const dev = VirtioNetDevice.attach();
  if (dev == null) {
    println("udp-echo: no virtio-net device");
    return;
  }
  const iface = new Interface(dev, new FixedPacketPool(POOL_BUFFERS, POOL_BUFFER_BYTES), new BootClock(), new IpConfig());
  const socket = iface.udpSocket();
  if (!socket.bind(ECHO_PORT, onDatagram)) {
    println("udp-echo: cannot bind port 7");
    return;
  }
  print("udp-echo: listening on 10.0.2.15 port 7, transport ");
  println(dev.driver.modern ? "modern" : "legacy");
  while (running) {
    if (iface.poll() == 0) pause();
  }
  dev.flush();
  print("udp-echo: echoed ");
  printU64(echoed);
  print(" datagrams, rx frames ");
  printU64(dev.driver.rxFrames);
  print(", tx frames ");
  printU64(dev.driver.txFrames);
  newline();
}
