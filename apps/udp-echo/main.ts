// udp-echo: the net/ stack on virtio-net. Answers every UDP datagram to its port (default 7)
// with the same bytes (RFC 862 echo), answers ARP and ping, prints its counters on a datagram
// "stats", and ends (status 0) after a datagram "quit".
//
// Run it:  npm run image -- --app apps/udp-echo, then boot the ELF with
//   -netdev user,id=n0,hostfwd=udp:127.0.0.1:7777-:7 -device virtio-net-pci,netdev=n0
// and talk to it: `nc -u 127.0.0.1 7777`. test/drivers/udp_echo.test.ts does it with Node dgram.
// Command line (PVH `-append`): `ip=A.B.C.D/N gw=A.B.C.D port=N`; without it 10.0.2.15/24 via
// 10.0.2.2, port 7 (QEMU user networking).
//
// The event loop runs it (net/platform/kernel.ts NetLoop): polling while datagrams flow, MSI-X
// interrupt wake-up and hlt when idle. Packet buffers come from kernel pools; after start-up the
// echo path allocates nothing (the "stats" counters show it).
//
// Serial lines (tests and tools/bench/udp.ts read them):
//   udp-echo: listening on <addr> port <port>, transport modern|legacy
//   udp-echo: wake-up msi-x vector <n> | polling only
//   udp-echo: entropy N bytes from virtio-rng                (before "listening", if present)
//   udp-echo: stats received=N echoed=N stats=N irq=N polls=N busy_polls=N sleeps=N halts=N
//   net: rx=N accepted=N tx=N drops: reason=N ...           (net/stats.ts)
//   udp-echo: memory heap_allocs=N heap_frees=N heap_bytes=N pages=N
//   udp-echo: pool <i> size=N in_use=N capacity=N peak=N allocs=N frees=N fails=N
//   udp-echo: stats end
//   udp-echo: echoed N datagrams, rx frames N, tx frames N   (at "quit", after the stats block)

import { print, println, printU32, printU64, newline } from "../../kernel/console";
import { cmdline } from "../../kernel/bootinfo";
import { stop as stopLoop, loopHalts } from "../../kernel/events/loop";
import {
  heapAllocations, heapFrees, heapBytesInUse, pagesUsed, poolsCount, poolAt,
} from "../../kernel/runtime/index";
import { pciEnumerate } from "../../drivers/pci/pci";
import { VirtioNetDevice } from "../../drivers/virtio/net_device";
import { VirtioRng } from "../../drivers/virtio/rng";
import { entropyCredited } from "../../drivers/entropy";
import { Interface } from "../../net/interface";
import { IpConfig, parseIpConfig } from "../../net/config";
import { ConsoleSink, KernelClock, KernelPacketPool, NetLoop } from "../../net/platform/kernel";
import { UdpSocket } from "../../net/udp_socket";

@inline const DEFAULT_PORT: u16 = 7;
/** Bytes of virtio-rng output mixed into the kernel's entropy pool at start (when present). */
@inline const ENTROPY_BYTES: u32 = 32;
/** Pool buffers for frames waiting on ARP resolution: one Ethernet frame each. */
@inline const POOL_BUFFERS: u32 = 16;
@inline const POOL_BUFFER_BYTES: u32 = 2048;

let received: u64 = 0;
let echoed: u64 = 0;
let statsRequests: u64 = 0;
let device: VirtioNetDevice | null = null;
let iface: Interface | null = null;
let netLoop: NetLoop | null = null;

/** True when the payload is `word` optionally followed by a newline (nc sends one). */
function isCommand(p: usize, len: i32, word: string): bool {
  const n = word.length;
  if (len != n && !(len == n + 1 && load<u8>(p + <usize>n) == 0x0a)) return false;
  for (let i = 0; i < n; i++) if (<u32>load<u8>(p + <usize>i) != <u32>word.charCodeAt(i)) return false;
  return true;
}

function onDatagram(socket: UdpSocket, srcAddr: u32, srcPort: u16, payload: usize, len: i32): void {
  received++;
  if (isCommand(payload, len, "quit")) {
    quit();
    return;
  }
  if (isCommand(payload, len, "stats")) {
    statsRequests++;
    printStats();
    if (socket.sendTo(srcAddr, srcPort, payload, len)) echoed++; // echoed too: the client sees it was done
    return;
  }
  if (socket.sendTo(srcAddr, srcPort, payload, len)) echoed++;
}

/** The counter block (see the header); allocation-free. */
function printStats(): void {
  const l = netLoop!;
  print("udp-echo: stats received=");
  printU64(received);
  print(" echoed=");
  printU64(echoed);
  print(" stats=");
  printU64(statsRequests);
  print(" irq=");
  printU64(l.interrupts);
  print(" polls=");
  printU64(l.polls);
  print(" busy_polls=");
  printU64(l.busyPolls);
  print(" sleeps=");
  printU64(l.sleeps);
  print(" halts=");
  printU64(loopHalts());
  newline();
  iface!.stats.print(ConsoleSinkOnce());
  print("udp-echo: memory heap_allocs=");
  printU64(heapAllocations());
  print(" heap_frees=");
  printU64(heapFrees());
  print(" heap_bytes=");
  printU64(heapBytesInUse());
  print(" pages=");
  printU64(pagesUsed());
  newline();
  for (let i = 0, n = poolsCount(); i < n; i++) {
    const p = poolAt(i);
    print("udp-echo: pool ");
    printU32(<u32>i);
    print(" size=");
    printU32(p.bufferSize);
    print(" in_use=");
    printU32(p.inUse);
    print(" capacity=");
    printU32(p.capacity);
    print(" peak=");
    printU32(p.peakInUse);
    print(" allocs=");
    printU64(p.allocations);
    print(" frees=");
    printU64(p.frees);
    print(" fails=");
    printU64(p.failures);
    newline();
  }
  println("udp-echo: stats end");
}

/** The stack's TextSink, created once (printing the stats must not allocate per request). */
let sink: ConsoleSink | null = null;
function ConsoleSinkOnce(): ConsoleSink {
  if (sink == null) sink = new ConsoleSink();
  return sink!;
}

function quit(): void {
  const dev = device!;
  dev.flush();
  printStats();
  print("udp-echo: echoed ");
  printU64(echoed);
  print(" datagrams, rx frames ");
  printU64(dev.driver.rxFrames);
  print(", tx frames ");
  printU64(dev.driver.txFrames);
  newline();
  netLoop!.stop();
  stopLoop();
}

/** `port=N` (1..65535) from the command line, or `fallback`. */
function parsePort(s: string, fallback: u16): u16 {
  const at = s.indexOf("port=");
  if (at < 0 || (at > 0 && s.charCodeAt(at - 1) != 0x20)) return fallback;
  let v: u32 = 0;
  let digits = 0;
  for (let i = at + 5; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c == 0x20) break;
    if (c < 0x30 || c > 0x39 || ++digits > 5) return fallback;
    v = v * 10 + <u32>(c - 0x30);
  }
  return digits == 0 || v == 0 || v > 65535 ? fallback : <u16>v;
}

function printIpv4(a: u32): void {
  for (let i = 3; i >= 0; i--) {
    printU32((a >> (<u32>i * 8)) & 0xff);
    if (i > 0) print(".");
  }
}

/** Called by the boot stub after the kernel's `_start`; the event loop (`_run`) follows. */
export function main(): void {
  const args = cmdline();
  const config = new IpConfig();
  if (!parseIpConfig(args, config)) println("udp-echo: malformed ip= or gw= on the command line, using the defaults");
  const port = parsePort(args, DEFAULT_PORT);
  pciEnumerate();
  // Seeds (kernel/entropy.ts) from virtio-rng when the machine has one.
  const rng = VirtioRng.attach();
  if (rng != null) {
    rng.feedPool(ENTROPY_BYTES);
    print("udp-echo: entropy ");
    printU32(entropyCredited());
    println(" bytes from virtio-rng");
  }
  const dev = VirtioNetDevice.attach(true);
  if (dev == null) {
    println("udp-echo: no virtio-net device");
    return;
  }
  const pool = KernelPacketPool.create(POOL_BUFFER_BYTES, POOL_BUFFERS);
  if (pool == null) {
    println("udp-echo: no memory for the packet pool");
    return;
  }
  const ifc = new Interface(dev, pool, new KernelClock(), config);
  const socket = ifc.udpSocket();
  if (!socket.bind(port, onDatagram)) {
    println("udp-echo: cannot bind the port");
    return;
  }
  device = dev;
  iface = ifc;
  ConsoleSinkOnce();
  const l = new NetLoop(ifc, dev);
  netLoop = l;
  l.start();
  print("udp-echo: listening on ");
  printIpv4(config.address);
  print(" port ");
  printU32(<u32>port);
  print(", transport ");
  println(dev.driver.modern ? "modern" : "legacy");
  if (l.interruptDriven) {
    print("udp-echo: wake-up msi-x vector ");
    printU32(dev.interruptVector());
    newline();
  } else {
    println("udp-echo: wake-up polling only");
  }
}
