// net-probe: an in-guest test of drivers/: PCI enumeration, virtio-net (either transport) against
// QEMU user networking, and virtio-rng. Prints one `name ... [ok]` (or `[FAILED]`) line per check
// and ends with status 0 only when every check that ran passed (1 otherwise).
//
// Run it:  npm run image -- --app apps/net-probe, then boot the ELF with
//   -netdev user,id=n0 -device virtio-net-pci,netdev=n0 -device virtio-rng-pci
// (add `,disable-modern=on` to a device for the legacy transport). test/drivers/ does exactly this.
//
// Frames are built by hand (no net/ stack): the guest claims 10.0.2.15, the address user-mode
// networking hands out by DHCP; 10.0.2.2 is its gateway, which answers ARP and ICMP echo.

import { print, println, printHex, printU32, printU64, newline, microsSinceBoot } from "../../kernel/console";
import { exit, EXIT_ABORT } from "../../kernel/arch/x86_64/debug_exit";
import {
  pciEnumerate, pciFunctionAt, pciCommand, PCI_COMMAND_BUS_MASTER, pciBarKind, pciBarAddress, pciBarSize, BarKind,
} from "../../drivers/pci/pci";
import { VirtioNet } from "../../drivers/virtio/net";
import { VirtioRng } from "../../drivers/virtio/rng";
import { entropyCredited, entropySeed64 } from "../../drivers/entropy";

@inline const GUEST_IP: u32 = 0x0a00020f; // 10.0.2.15
@inline const GATEWAY_IP: u32 = 0x0a000202; // 10.0.2.2
@inline const ETHERTYPE_ARP: u16 = 0x0806;
@inline const ETHERTYPE_IPV4: u16 = 0x0800;
@inline const MIN_FRAME: u32 = 60;
@inline const PING_ID: u16 = 0x7a31;
@inline const PING_PAYLOAD: u32 = 32;
@inline const WAIT_MICROS: u64 = 3_000_000;
/** ARP requests in the burst: more than the transmit buffers (64) and the ring size (256). */
@inline const BURST: u32 = 300;

const frame = memory.data(1514, 16);
const gatewayMac = memory.data(8);
let failures = 0;

function ok(name: string): void {
  print(name);
  println(" ... [ok]");
}

function failed(name: string, why: string): void {
  print(name);
  print(" ... [FAILED] ");
  println(why);
  failures++;
}

function check(name: string, pass: bool, why: string): bool {
  if (pass) ok(name);
  else failed(name, why);
  return pass;
}

// ---- byte helpers (network byte order) ----
@inline function put16(p: usize, v: u16): void { store<u16>(p, bswap<u16>(v)); }
@inline function put32(p: usize, v: u32): void { store<u32>(p, bswap<u32>(v)); }
@inline function get16(p: usize): u16 { return bswap<u16>(load<u16>(p)); }
@inline function get32(p: usize): u32 { return bswap<u32>(load<u32>(p)); }

/** Internet checksum (after: RFC 1071 §4.1). */
function checksum(p: usize, len: u32): u16 {
  let sum: u32 = 0;
  let i: u32 = 0;
  for (; i + 1 < len; i += 2) sum += <u32>get16(p + <usize>i);
  if (i < len) sum += <u32>load<u8>(p + <usize>i) << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return <u16>~sum;
}

function printMac(p: usize): void {
  for (let i = 0; i < 6; i++) {
    if (i) print(":");
    printHex(load<u8>(p + <usize>i), 2);
  }
}

function printIp(ip: u32): void {
  printU32(ip >> 24); print("."); printU32((ip >> 16) & 0xff); print(".");
  printU32((ip >> 8) & 0xff); print("."); printU32(ip & 0xff);
}

function putMac(p: usize, net: VirtioNet): void {
  for (let i = 0; i < 6; i++) store<u8>(p + <usize>i, net.macByte(i));
}

/** Ethernet + ARP request "who has 10.0.2.2, tell 10.0.2.15", padded to 60 bytes. */
function buildArpRequest(p: usize, net: VirtioNet): u32 {
  memory.fill(p, 0, MIN_FRAME);
  memory.fill(p, 0xff, 6); // broadcast
  putMac(p + 6, net);
  put16(p + 12, ETHERTYPE_ARP);
  put16(p + 14, 1); // htype Ethernet
  put16(p + 16, ETHERTYPE_IPV4); // ptype
  store<u8>(p + 18, 6); // hlen
  store<u8>(p + 19, 4); // plen
  put16(p + 20, 1); // op: request
  putMac(p + 22, net); // sender hardware address
  put32(p + 28, GUEST_IP);
  put32(p + 38, GATEWAY_IP); // target protocol address (target MAC stays zero)
  return MIN_FRAME;
}

/** Ethernet + IPv4 + ICMP echo request to the gateway with sequence `seq`. */
function buildPing(p: usize, net: VirtioNet, seq: u16): u32 {
  memory.copy(p, gatewayMac, 6);
  putMac(p + 6, net);
  put16(p + 12, ETHERTYPE_IPV4);
  const ip = p + 14;
  const ipLen: u32 = 20 + 8 + PING_PAYLOAD;
  store<u8>(ip, 0x45); // version 4, IHL 5
  store<u8>(ip + 1, 0);
  put16(ip + 2, <u16>ipLen);
  put16(ip + 4, seq); // identification
  put16(ip + 6, 0x4000); // don't fragment
  store<u8>(ip + 8, 64); // TTL
  store<u8>(ip + 9, 1); // ICMP
  put16(ip + 10, 0);
  put32(ip + 12, GUEST_IP);
  put32(ip + 16, GATEWAY_IP);
  put16(ip + 10, checksum(ip, 20));
  const icmp = ip + 20;
  store<u8>(icmp, 8); // echo request
  store<u8>(icmp + 1, 0);
  put16(icmp + 2, 0);
  put16(icmp + 4, PING_ID);
  put16(icmp + 6, seq);
  for (let i: u32 = 0; i < PING_PAYLOAD; i++) store<u8>(icmp + 8 + <usize>i, <u8>(0x41 + i));
  put16(icmp + 2, checksum(icmp, 8 + PING_PAYLOAD));
  return 14 + ipLen;
}

@inline function isArpReplyFromGateway(f: usize, len: u32): bool {
  return len >= 42 && get16(f + 12) == ETHERTYPE_ARP && get16(f + 20) == 2 && get32(f + 28) == GATEWAY_IP;
}

/** Sequence number of an echo reply from the gateway to us, or -1. */
function echoReplySeq(f: usize, len: u32): i32 {
  if (len < 14 + 20 + 8 || get16(f + 12) != ETHERTYPE_IPV4) return -1;
  const ip = f + 14;
  if (load<u8>(ip) != 0x45 || load<u8>(ip + 9) != 1 || get32(ip + 12) != GATEWAY_IP || get32(ip + 16) != GUEST_IP) return -1;
  if (checksum(ip, 20) != 0) return -1;
  const icmp = ip + 20;
  if (load<u8>(icmp) != 0 || get16(icmp + 4) != PING_ID) return -1;
  const icmpLen = <u32>get16(ip + 2) - 20;
  if (<u32>(14 + 20) + icmpLen > len || checksum(icmp, icmpLen) != 0) return -1;
  return <i32>get16(icmp + 6);
}

function sendArp(net: VirtioNet): bool {
  const f = net.txBuffer();
  if (f == 0) return false;
  return net.transmit(f, buildArpRequest(f, net));
}

function probePci(): void {
  const n = pciEnumerate();
  print("pci: ");
  printU32(<u32>n);
  println(" functions");
  for (let i = 0; i < n; i++) {
    const f = pciFunctionAt(i);
    print("  ");
    printHex(f.bus, 2); print(":"); printHex(f.device, 2); print("."); printHex(f.fn, 1);
    print(" "); printHex(f.vendorId, 4); print(":"); printHex(f.deviceId, 4);
    print(" class "); printHex(f.classCode, 6);
    for (let b: u32 = 0; b < 6; b++) {
      const kind = pciBarKind(f.bdf, b);
      if (kind == BarKind.NONE) continue;
      print(kind == BarKind.IO ? " io" : kind == BarKind.MEM64 ? " mem64" : " mem32");
      print("@"); printHex(pciBarAddress(f.bdf, b));
      print("/"); printHex(pciBarSize(f.bdf, b));
    }
    newline();
  }
  check("pci enumerate", n > 0, "no PCI functions (microvm without pcie=on?)");
}

function probeNet(): void {
  const net = VirtioNet.attach();
  if (!check("virtio-net attach", net != null, "no usable virtio-net device")) return;
  const dev = net!;
  print("virtio-net: ");
  print(dev.modern ? "modern" : "legacy");
  print(" transport, header ");
  printU32(dev.headerBytes);
  print(" bytes, rx ring ");
  printU32(dev.rx.size);
  print(", tx ring ");
  printU32(dev.tx.size);
  print(", MAC ");
  for (let i = 0; i < 6; i++) {
    if (i) print(":");
    printHex(dev.macByte(i), 2);
  }
  println(dev.linkUp() ? ", link up" : ", link down");
  check("virtio-net bus master", (pciCommand(dev.transport.bdf) & PCI_COMMAND_BUS_MASTER) != 0, "command bit 2 clear");
  check("virtio-net link", dev.linkUp(), "link down");

  // ARP: who has 10.0.2.2?
  let resolved = false;
  if (sendArp(dev)) dev.flush();
  const start = microsSinceBoot();
  while (!resolved && microsSinceBoot() - start < WAIT_MICROS) {
    const f = dev.receive();
    if (f == 0) continue;
    if (isArpReplyFromGateway(f, dev.rxLength)) {
      memory.copy(gatewayMac, f + 22, 6);
      resolved = true;
    }
    dev.release(f);
  }
  if (!check("virtio-net arp", resolved, "no ARP reply from 10.0.2.2")) return;
  print("virtio-net: ");
  printIp(GATEWAY_IP);
  print(" is at ");
  printMac(gatewayMac);
  newline();

  // Three echo requests queued, then published with one kick; all three replies must come back.
  const kicksBefore = dev.tx.notifications;
  for (let seq: u16 = 1; seq <= 3; seq++) {
    const f = dev.txBuffer();
    if (f != 0) dev.transmit(f, buildPing(f, dev, seq));
  }
  dev.flush();
  const kicks = dev.tx.notifications - kicksBefore;
  let replies: u32 = 0;
  const pingStart = microsSinceBoot();
  while (replies != 7 && microsSinceBoot() - pingStart < WAIT_MICROS) {
    const f = dev.receive();
    if (f == 0) continue;
    const seq = echoReplySeq(f, dev.rxLength);
    if (seq >= 1 && seq <= 3) replies |= 1 << (seq - 1);
    dev.release(f);
  }
  check("virtio-net tx batch", kicks <= 1, "more than one notification for one batch");
  check("virtio-net ping", replies == 7, "missing echo replies from 10.0.2.2");

  // A burst larger than the transmit pool and the rings: TX reclaim and RX recycling.
  let sent: u32 = 0;
  let answered: u32 = 0;
  const burstStart = microsSinceBoot();
  while ((sent < BURST || answered < BURST) && microsSinceBoot() - burstStart < WAIT_MICROS) {
    for (let i = 0; i < 16 && sent < BURST; i++) {
      if (!sendArp(dev)) break;
      sent++;
    }
    dev.flush();
    while (true) {
      const f = dev.receive();
      if (f == 0) break;
      if (isArpReplyFromGateway(f, dev.rxLength)) answered++;
      dev.release(f);
    }
  }
  print("virtio-net: burst sent ");
  printU32(sent);
  print(", answered ");
  printU32(answered);
  print(", rx errors ");
  printU64(dev.rxErrors);
  newline();
  check("virtio-net burst", sent == BURST && answered == BURST, "frames lost in the burst");
}

function probeRng(): void {
  const rng = VirtioRng.attach();
  if (rng == null) {
    println("virtio-rng: none");
    return;
  }
  ok("virtio-rng attach");
  const a = memory.data(32, 16);
  const b = memory.data(32, 16);
  const got1 = rng.read(a, 32);
  const got2 = rng.read(b, 32);
  let nonzero = false;
  let differ = false;
  for (let i = 0; i < 32; i++) {
    if (load<u8>(a + <usize>i) != 0) nonzero = true;
    if (load<u8>(a + <usize>i) != load<u8>(b + <usize>i)) differ = true;
  }
  print("virtio-rng: ");
  print(rng.modern ? "modern" : "legacy");
  print(" transport, ");
  for (let i = 0; i < 16; i++) printHex(load<u8>(a + <usize>i), 2);
  newline();
  check("virtio-rng read", got1 == 32 && got2 == 32 && nonzero && differ, "short, zero or repeated bytes");
  const fed = rng.feedPool(64);
  print("entropy: ");
  printU32(entropyCredited());
  print(" bytes credited, seed ");
  printHex(entropySeed64(), 16);
  newline();
  check("entropy pool", fed == 64 && entropyCredited() >= 64, "pool not fed");
}

/** Called by the boot stub after the kernel's `_start`. */
export function main(): void {
  probePci();
  probeNet();
  probeRng();
  print("net-probe: ");
  printU32(<u32>failures);
  println(" failures");
  if (failures != 0) exit(EXIT_ABORT);
}
