/**
 * The network stack (net/) under Node: net/testing/test_entry.ts compiled with asc (stub
 * runtime) and driven through its exports. Oracles are independent: hand-checked golden bytes
 * and the JavaScript frame builders and RFC 1071 checksum of ./frames.ts.
 */
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { compileKernelApp, runAsc, type CompileResult } from "../../tools/build/compile.ts";
import { disallowedImports, floatOperators, wasmToText } from "../../tools/build/inspect.ts";
import {
  BROADCAST, MAC_A, MAC_B, MAC_GW, arp, ether, hex, icmpEcho, inetChecksum, ip, ipv4, pseudoSum, toHex, udp,
} from "./frames.ts";

/** Drop reasons, mirroring net/stats.ts `Drop`. */
const D = {
  ETH_TRUNCATED: 1, ETH_NOT_FOR_US: 2, ETH_UNKNOWN_TYPE: 3, ARP_MALFORMED: 4, ARP_UNKNOWN_OP: 5,
  ARP_NOT_FOR_US: 6, IPV4_MALFORMED: 7, IPV4_BAD_CHECKSUM: 8, IPV4_BAD_SRC: 9, IPV4_NOT_FOR_US: 10,
  IPV4_FRAGMENT: 11, IPV4_UNKNOWN_PROTOCOL: 12, ICMP_TRUNCATED: 13, ICMP_BAD_CHECKSUM: 14,
  ICMP_IGNORED: 15, UDP_MALFORMED: 16, UDP_BAD_CHECKSUM: 17, UDP_NO_SOCKET: 18, TX_NO_BUFFER: 19,
  TX_TOO_BIG: 20, ARP_QUEUE_FULL: 21, ARP_TIMEOUT: 22, TX_NO_ROUTE: 23, COUNT: 24,
} as const;

const US = ip("10.0.2.15");
const GW = ip("10.0.2.2");
const B = ip("10.0.2.20");
/** ArpCache's ARP_MISS (bit 63) as the signed i64 that crosses the wasm boundary. */
const MISS = -(1n << 63n);

/**
 * A kernel application using the stack through net/index.ts and net/platform/kernel.ts (a
 * string: the repository typecheck must not see AssemblyScript). Proves the stack builds into
 * the bare-metal module.
 */
const KERNEL_APP = String.raw`import { Interface, IpConfig, FixedPacketPool, NetDevice, PacketRef, UdpSocket } from "../../../../net/index";
import { KernelClock, ConsoleSink } from "../../../../net/platform/kernel";
class NullDevice extends NetDevice {
  macAddress(): u64 { return 0x525400123456; }
  mtu(): i32 { return 1500; }
  receive(out: PacketRef): bool { return false; }
  release(ptr: usize): void {}
  txBuffer(): usize { return 0; }
  transmit(ptr: usize, len: i32): void {}
  txDiscard(ptr: usize): void {}
}
function echo(s: UdpSocket, a: u32, p: u16, d: usize, l: i32): void { s.sendTo(a, p, d, l); }
export function main(): void {
  const iface = new Interface(new NullDevice(), new FixedPacketPool(16, 1536), new KernelClock(), new IpConfig());
  iface.udpSocket().bind(7, echo);
  iface.poll();
  iface.stats.print(new ConsoleSink());
}
`;

/** Functions named $net/... that contain memory.copy / memory.fill (not translated yet). */
async function netBulkMemoryUsers(module: Uint8Array, exclude: string): Promise<string[]> {
  let fn = "";
  const found: string[] = [];
  for (const line of (await wasmToText(module)).split("\n")) {
    fn = line.match(/^\s*\(func (\$\S+)/)?.[1] ?? fn;
    if (/memory\.(copy|fill)/.test(line) && (fn.startsWith("$net/") || fn.startsWith("$~lib/staticarray")) && !fn.startsWith(exclude)) found.push(fn);
  }
  return found;
}

let wasm: Uint8Array<ArrayBuffer>;
let kernelApp: CompileResult;
let x: Record<string, any>;
let printed = "";

beforeAll(async () => {
  const [r, k] = await Promise.all([
    runAsc("net tests", ["net/testing/test_entry.ts"], [
      "--runtime", "stub", "--debug", "--optimizeLevel", "3", "--shrinkLevel", "0", "--noColors",
    ]),
    compileKernelApp("test/net/fixtures/kernel_app", { files: { "test/net/fixtures/kernel_app/main.ts": KERNEL_APP } }),
  ]);
  wasm = r.wasm;
  kernelApp = k;
});

function instantiate(): void {
  let memory: WebAssembly.Memory;
  const inst = new WebAssembly.Instance(new WebAssembly.Module(wasm), {
    env: {
      abort: (msg: number, file: number, line: number, col: number) => {
        throw new Error(`abort at ${line}:${col}`);
      },
      trace: () => {},
      seed: () => 1,
    },
    net: {
      print: (ptr: number, len: number) => {
        printed += Buffer.from(memory.buffer, ptr, len).toString("utf16le");
      },
    },
  });
  x = inst.exports as Record<string, any>;
  memory = x.memory as WebAssembly.Memory;
}

const mem = () => new Uint8Array((x.memory as WebAssembly.Memory).buffer);
function put(bytes: Uint8Array): number {
  mem().set(bytes, x.scratch());
  return bytes.length;
}
const outBytes = (len: number) => mem().slice(x.out(), x.out() + len);
function input(frame: Uint8Array): number {
  return x.input(put(frame));
}
function takeTx(): Uint8Array | null {
  const n = x.takeTx();
  return n < 0 ? null : outBytes(n);
}
function drainTx(): Uint8Array[] {
  const all: Uint8Array[] = [];
  for (let f = takeTx(); f; f = takeTx()) all.push(f);
  return all;
}
const u16 = (b: Uint8Array, at: number) => (b[at] << 8) | b[at + 1];
const u32 = (b: Uint8Array, at: number) => ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;

/** Teaches the stack the gateway's MAC the way QEMU does: an ARP request for our address. */
function learnGateway(): void {
  expect(input(ether(BROADCAST, MAC_GW, 0x0806, arp(1, MAC_GW, GW, 0n, US)))).toBe(0);
  drainTx();
}

/** Checks the IPv4 header checksum and returns [header length, payload]. */
function ipPayload(frame: Uint8Array): Uint8Array {
  const ipHdr = frame.subarray(14, 34);
  expect(inetChecksum(ipHdr)).toBe(0);
  return frame.subarray(34, 14 + u16(frame, 16));
}

beforeEach(() => {
  if (!x) instantiate();
  x.setup();
  printed = "";
});

describe("module", () => {
  it("has no float arithmetic and no bulk-memory operators (kernel constraints)", async () => {
    expect([...(await floatOperators(wasm))]).toEqual([]);
    // memory.copy/fill are not translated yet: none may come from net/ (the test entry may).
    expect(await netBulkMemoryUsers(wasm, "$net/testing/test_entry/")).toEqual([]);
  });

  it("builds into the kernel module: no floats, only kernel intrinsics, no bulk memory from net/", async () => {
    expect([...(await floatOperators(kernelApp.wasm))]).toEqual([]);
    expect(disallowedImports(kernelApp.wasm, false)).toEqual([]);
    expect(await netBulkMemoryUsers(kernelApp.wasm, "-")).toEqual([]);
    expect(await wasmToText(kernelApp.wasm)).toMatch(/\(func \$net\//); // the stack is really in there
  });
});

describe("wire: checksum (RFC 1071)", () => {
  it("matches the RFC 1071 §3 example and the reference on odd and even lengths", () => {
    // §3: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2, checksum 220d.
    expect(x.checksum(put(hex("0001 f203 f4f5 f6f7")))).toBe(0x220d);
    // Wikipedia's IPv4 header example: checksum field b861 makes the sum verify.
    expect(x.checksum(put(hex("4500 0073 0000 4000 4011 0000 c0a8 0001 c0a8 00c7")))).toBe(0xb861);
    let seed = 7;
    for (let len = 0; len < 200; len++) {
      const b = new Uint8Array(len).map(() => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24);
      expect(x.checksum(put(b))).toBe(inetChecksum(b));
    }
  });
});

describe("wire: golden frames", () => {
  // A who-has from QEMU's gateway (format as captured on a slirp link).
  const arpRequest = hex("ffffffffffff 525400123502 0806 0001 0800 06 04 0001 525400123502 0a000202 000000000000 0a00020f");

  it("ethernet parses and emits", () => {
    expect(x.parseEthernet(put(arpRequest))).toBe(1);
    expect([x.result(0), x.result(1), x.result(2), x.result(3)]).toEqual([BROADCAST, MAC_GW, 0x0806n, 28n]);
    expect(x.parseEthernet(put(arpRequest.subarray(0, 13)))).toBe(0);
    expect(toHex(outBytes(x.buildEthernet(MAC_GW, MAC_A, 0x0800)))).toBe(toHex(hex("525400123502 525400123456 0800")));
  });

  it("arp parses and emits", () => {
    put(arpRequest);
    expect(x.parseArp(14, 28)).toBe(1);
    expect([0, 1, 2, 3, 4].map((i) => x.result(i))).toEqual([1n, MAC_GW, BigInt(GW), 0n, BigInt(US)]);
    expect(x.parseArp(14, 27)).toBe(0);
    put(hex("0006 0800 0604 0001 000000000000 00000000 000000000000 00000000")); // htype 6
    expect(x.parseArp(0, 28)).toBe(0);
    expect(toHex(outBytes(x.buildArp(2, MAC_A, US, MAC_GW, GW)))).toBe(
      toHex(hex("0001 0800 06 04 0002 525400123456 0a00020f 525400123502 0a000202")));
  });

  // Echo request 10.0.2.2 -> 10.0.2.15, id 0x1234 seq 1, "abcdefgh"; checksums computed by hand:
  // IP 0x62c8, ICMP 0x5435.
  const echoIp = hex("4500 0024 0001 0000 4001 62c8 0a000202 0a00020f");
  const echoIcmp = hex("0800 5435 1234 0001 6162636465666768");

  it("ipv4 parses (checksum verified) and emits", () => {
    put(Uint8Array.from([...echoIp, ...echoIcmp]));
    expect(x.parseIpv4(0, 36)).toBe(1);
    expect([0, 1, 2, 3, 4, 5, 6, 7].map((i) => x.result(i))).toEqual([BigInt(GW), BigInt(US), 1n, 64n, 1n, 0n, 16n, 20n]);
    expect(x.parseIpv4(0, 35)).toBe(0); // total length beyond the buffer
    const bad = Uint8Array.from(echoIp);
    bad[11] ^= 1;
    put(bad);
    expect(x.parseIpv4(0, 20 + 16)).toBe(0);
    expect(toHex(outBytes(x.buildIpv4(GW, US, 1, 64, 1, 0, 16)))).toBe(toHex(echoIp));
    // Wikipedia example header (DF set, UDP, ident 0, ttl 64).
    expect(toHex(outBytes(x.buildIpv4(ip("192.168.0.1"), ip("192.168.0.199"), 17, 64, 0, 1, 0x73 - 20)))).toBe(
      toHex(hex("4500 0073 0000 4000 4011 b861 c0a80001 c0a800c7")));
  });

  it("icmp echo parses and emits", () => {
    put(echoIcmp);
    expect(x.parseIcmpEcho(0, 16)).toBe(1);
    expect([0, 1, 2, 3, 4].map((i) => x.result(i))).toEqual([8n, 0x1234n, 1n, 8n, 8n]);
    const bad = Uint8Array.from(echoIcmp);
    bad[15] ^= 0x20;
    put(bad);
    expect(x.parseIcmpEcho(0, 16)).toBe(0);
    put(hex("6162636465666768"));
    expect(toHex(outBytes(x.buildIcmpEcho(0, 0x1234, 1, 8)))).toBe(toHex(hex("0000 5c35 1234 0001 6162636465666768")));
  });

  // 10.0.2.2:5000 -> 10.0.2.15:7 "hi!": checksum 0x4acf by hand (pseudo header 0x182d).
  const udpGolden = hex("1388 0007 000b 4acf 686921");

  it("udp parses (pseudo-header checksum) and emits", () => {
    put(udpGolden);
    expect(x.parseUdp(0, 11, GW, US)).toBe(1);
    expect([0, 1, 2, 3].map((i) => x.result(i))).toEqual([5000n, 7n, 8n, 3n]);
    expect(x.parseUdp(0, 11, GW, ip("10.0.2.16"))).toBe(0); // pseudo header differs
    expect(x.parseUdp(0, 10, GW, US)).toBe(0); // length field beyond buffer
    put(hex("686921"));
    expect(toHex(outBytes(x.buildUdp(5000, 7, GW, US, 3)))).toBe(toHex(udpGolden));
    // A zero checksum means "none" (RFC 768) and is accepted.
    put(hex("1388 0007 000b 0000 686921"));
    expect(x.parseUdp(0, 11, GW, US)).toBe(1);
  });
});

describe("config", () => {
  function parse(s: string): boolean {
    mem().set(new Uint8Array(Buffer.from(s, "utf16le")), x.scratch());
    return x.parseConfig(s.length * 2) === 1;
  }
  it("parses ip=/gw= words and keeps defaults", () => {
    expect(parse("")).toBe(true);
    expect([x.cfgAddress() >>> 0, x.cfgPrefix(), x.cfgGateway() >>> 0]).toEqual([US, 24, GW]);
    expect(parse("console=ttyS0 ip=192.168.100.2/24 gw=192.168.100.1 quiet")).toBe(true);
    expect([x.cfgAddress() >>> 0, x.cfgPrefix(), x.cfgGateway() >>> 0, x.cfgNetmask() >>> 0]).toEqual(
      [ip("192.168.100.2"), 24, ip("192.168.100.1"), 0xffffff00]);
    expect(parse("ip=172.16.0.9/12")).toBe(true);
    expect([x.cfgAddress() >>> 0, x.cfgPrefix(), x.cfgGateway() >>> 0, x.cfgNetmask() >>> 0]).toEqual([ip("172.16.0.9"), 12, GW, 0xfff00000]);
    for (const bad of ["ip=1.2.3.4", "ip=1.2.3/24", "ip=1.2.3.256/24", "ip=1.2.3.4/33", "gw=1.2.3.4.5", "ip=1..3.4/8", "gw=1234.1.1.1"]) {
      expect(parse(bad), bad).toBe(false);
      expect(x.cfgAddress() >>> 0).toBe(US); // untouched on error
    }
  });
});

describe("ARP", () => {
  it("answers a request for our address with the RFC 826 reply and learns the sender", () => {
    expect(input(ether(BROADCAST, MAC_GW, 0x0806, arp(1, MAC_GW, GW, 0n, US)))).toBe(0);
    expect(toHex(takeTx()!)).toBe(toHex(hex(
      "525400123502 525400123456 0806 0001 0800 06 04 0002 525400123456 0a00020f 525400123502 0a000202")));
    expect(takeTx()).toBeNull();
    expect(x.arpLookup(GW)).toBe(MAC_GW);
  });

  it("ignores requests for other hosts without learning, but merges known senders", () => {
    expect(input(ether(BROADCAST, MAC_GW, 0x0806, arp(1, MAC_GW, GW, 0n, ip("10.0.2.99"))))).toBe(D.ARP_NOT_FOR_US);
    expect(takeTx()).toBeNull();
    expect(x.arpLookup(GW)).toBe(MISS);
    x.arpFill(GW, 0x1111n);
    expect(input(ether(BROADCAST, MAC_GW, 0x0806, arp(1, MAC_GW, GW, 0n, ip("10.0.2.99"))))).toBe(0);
    expect(x.arpLookup(GW)).toBe(MAC_GW);
  });

  it("entries expire after 60 s", () => {
    learnGateway();
    x.advance(59_999);
    expect(x.arpLookup(GW)).toBe(MAC_GW);
    x.advance(1);
    expect(x.arpLookup(GW)).toBe(MISS);
  });

  it("queues a datagram while resolving, then releases it with the learned MAC", () => {
    put(hex("6869"));
    expect(x.sendUdp(5000, B, 9, 2)).toBe(1);
    expect(x.arpQueueLength()).toBe(1);
    expect(toHex(takeTx()!)).toBe(toHex(ether(BROADCAST, MAC_A, 0x0806, arp(1, MAC_A, US, 0n, B))));
    expect(takeTx()).toBeNull();
    // A second datagram to the same host does not repeat the request within a second.
    expect(x.sendUdp(5000, B, 9, 2)).toBe(1);
    expect(takeTx()).toBeNull();
    expect(input(ether(MAC_A, MAC_B, 0x0806, arp(2, MAC_B, B, MAC_A, US)))).toBe(0);
    const frames = drainTx();
    expect(frames.length).toBe(2);
    for (const f of frames) {
      expect(toHex(f.subarray(0, 14))).toBe(toHex(hex("5254 00ab cdef 5254 0012 3456 0800")));
      const d = ipPayload(f);
      expect(u32(f, 26)).toBe(US);
      expect(u32(f, 30)).toBe(B);
      expect(toHex(d)).toBe(toHex(udp(US, B, 5000, 9, hex("6869"))));
    }
    expect(x.arpQueueLength()).toBe(0);
    expect(x.poolAvailable()).toBe(128);
  });

  it("retries once per second and drops queued packets after 3 s (counted)", () => {
    put(hex("00"));
    expect(x.sendUdp(5000, B, 9, 1)).toBe(1);
    expect(drainTx().length).toBe(1);
    x.advance(999);
    x.pollTimers();
    expect(drainTx().length).toBe(0);
    x.advance(1);
    x.pollTimers();
    expect(drainTx().length).toBe(1); // retransmitted request
    x.advance(2000);
    x.pollTimers();
    expect(x.stat(D.ARP_TIMEOUT)).toBe(1n);
    expect(x.arpQueueLength()).toBe(0);
    expect(x.poolAvailable()).toBe(128 - 0);
  });

  it("bounds the queue: the ninth unresolved datagram is dropped and counted", () => {
    put(hex("00"));
    for (let i = 0; i < 8; i++) expect(x.sendUdp(5000, ip(`10.0.2.${100 + i}`), 9, 1)).toBe(1);
    expect(x.sendUdp(5000, ip("10.0.2.120"), 9, 1)).toBe(0);
    expect(x.stat(D.ARP_QUEUE_FULL)).toBe(1n);
    expect(x.arpQueueLength()).toBe(8);
  });

  it("sends off-link traffic to the gateway's MAC", () => {
    learnGateway();
    put(hex("00"));
    expect(x.sendUdp(5000, ip("8.8.8.8"), 53, 1)).toBe(1);
    const f = takeTx()!;
    expect(toHex(f.subarray(0, 6))).toBe(toHex(hex("525400123502")));
    expect(u32(f, 30)).toBe(ip("8.8.8.8"));
  });
});

describe("ICMP echo (RFC 792)", () => {
  it("replies with type 0, same id/seq/data, swapped addresses and valid checksums", () => {
    learnGateway();
    const data = hex("6162636465666768");
    const req = ether(MAC_A, MAC_GW, 0x0800, ipv4(GW, US, 1, icmpEcho(8, 0x1234, 1, data)));
    expect(input(req)).toBe(0);
    const reply = takeTx()!;
    expect(toHex(reply.subarray(0, 14))).toBe(toHex(hex("525400123502 525400123456 0800")));
    const icmp = ipPayload(reply);
    expect(reply[23]).toBe(1);
    expect(u32(reply, 26)).toBe(US);
    expect(u32(reply, 30)).toBe(GW);
    expect(inetChecksum(icmp)).toBe(0); // independent verification
    expect(toHex(icmp)).toBe(toHex(hex("0000 5c35 1234 0001 6162636465666768")));
  });

  it("echoes large payloads byte for byte", () => {
    learnGateway();
    const data = new Uint8Array(1472).map((_, i) => (i * 7 + 3) & 0xff);
    expect(input(ether(MAC_A, MAC_GW, 0x0800, ipv4(GW, US, 1, icmpEcho(8, 9, 77, data))))).toBe(0);
    const icmp = ipPayload(takeTx()!);
    expect(inetChecksum(icmp)).toBe(0);
    expect(toHex(icmp.subarray(4))).toBe(toHex(icmpEcho(0, 9, 77, data).subarray(4)));
  });
});

describe("UDP", () => {
  it("echo socket returns the payload to the sender's port", () => {
    learnGateway();
    expect(x.bindEcho(7)).toBe(1);
    const payload = hex("68656c6c6f0a");
    expect(input(ether(MAC_A, MAC_GW, 0x0800, ipv4(GW, US, 17, udp(GW, US, 40000, 7, payload))))).toBe(0);
    const d = ipPayload(takeTx()!);
    expect(inetChecksum(d, pseudoSum(US, GW, 17, d.length))).toBe(0);
    expect(toHex(d)).toBe(toHex(udp(US, GW, 7, 40000, payload)));
  });

  it("binding rules: unique ports, no port 0, rebinding after close, unbound cannot send", () => {
    expect(x.bindRules()).toBe(63);
  });

  it("answers a datagram to a closed port with ICMP port unreachable (RFC 1122 §4.1.3.1)", () => {
    learnGateway();
    const dgram = ipv4(GW, US, 17, udp(GW, US, 40000, 9999, hex("00112233445566778899")));
    expect(input(ether(MAC_A, MAC_GW, 0x0800, dgram))).toBe(D.UDP_NO_SOCKET);
    const icmp = ipPayload(takeTx()!);
    expect(inetChecksum(icmp)).toBe(0);
    expect([icmp[0], icmp[1]]).toEqual([3, 3]);
    expect(toHex(icmp.subarray(8))).toBe(toHex(dgram.subarray(0, 28)));
    // Not for a broadcast.
    const bcast = ipv4(GW, ip("10.0.2.255"), 17, udp(GW, ip("10.0.2.255"), 40000, 9999, hex("00")));
    expect(input(ether(BROADCAST, MAC_GW, 0x0800, bcast))).toBe(D.UDP_NO_SOCKET);
    expect(takeTx()).toBeNull();
  });

  it("two stacks on one wire: ARP, queued datagram, echo back", () => {
    x.setupPair();
    expect(x.bindEchoB(7)).toBe(1);
    put(hex("deadbeef"));
    expect(x.sendUdp(5555, B, 7, 4)).toBe(1);
    expect(x.pollPair()).toBeGreaterThanOrEqual(4); // request, reply, datagram, echo (+ ARP from B)
    expect(x.sinkLen()).toBe(4);
    expect(toHex(mem().slice(x.sink(), x.sink() + 4))).toBe("de ad be ef");
    expect(x.sinkAddr() >>> 0).toBe(B);
    expect(x.sinkPort()).toBe(7);
    expect(x.rxDropped()).toBe(0n);
    expect(x.poolAvailable()).toBe(128);
  });
});

describe("drop counters: one matching malformed frame each", () => {
  const echo = (o: Parameters<typeof ipv4>[4] = {}, src = GW, dst = US) => ipv4(src, dst, 1, icmpEcho(8, 1, 1, hex("00")), o);
  const cases: Array<[keyof typeof D, () => Uint8Array]> = [
    ["ETH_TRUNCATED", () => hex("5254 0012 3456 5254 0012 3502 08")],
    ["ETH_NOT_FOR_US", () => ether(0x5254_0012_9999n, MAC_GW, 0x0800, echo())],
    ["ETH_UNKNOWN_TYPE", () => ether(MAC_A, MAC_GW, 0x86dd, echo())],
    ["ARP_MALFORMED", () => ether(BROADCAST, MAC_GW, 0x0806, arp(1, MAC_GW, GW, 0n, US).subarray(0, 27))],
    ["ARP_UNKNOWN_OP", () => ether(BROADCAST, MAC_GW, 0x0806, arp(9, MAC_GW, GW, 0n, US))],
    ["ARP_NOT_FOR_US", () => ether(BROADCAST, MAC_B, 0x0806, arp(1, MAC_B, ip("10.0.2.3"), 0n, ip("10.0.2.4")))],
    ["IPV4_MALFORMED", () => ether(MAC_A, MAC_GW, 0x0800, echo({ version: 6 }))],
    ["IPV4_BAD_CHECKSUM", () => ether(MAC_A, MAC_GW, 0x0800, echo({ badChecksum: true }))],
    ["IPV4_BAD_SRC", () => ether(MAC_A, MAC_GW, 0x0800, echo({}, ip("224.0.0.1")))],
    ["IPV4_NOT_FOR_US", () => ether(MAC_A, MAC_GW, 0x0800, echo({}, GW, ip("10.0.2.16")))],
    ["IPV4_FRAGMENT", () => ether(MAC_A, MAC_GW, 0x0800, echo({ flagsFrag: 0x2000 }))],
    ["IPV4_UNKNOWN_PROTOCOL", () => ether(MAC_A, MAC_GW, 0x0800, ipv4(GW, US, 6, new Uint8Array(20)))],
    ["ICMP_TRUNCATED", () => ether(MAC_A, MAC_GW, 0x0800, ipv4(GW, US, 1, hex("0800 f7ff 0000")))],
    ["ICMP_BAD_CHECKSUM", () => ether(MAC_A, MAC_GW, 0x0800, ipv4(GW, US, 1, icmpEcho(8, 1, 1, hex("00"), true)))],
    ["ICMP_IGNORED", () => ether(MAC_A, MAC_GW, 0x0800, ipv4(GW, US, 1, icmpEcho(0, 1, 1, hex("00"))))],
    ["UDP_MALFORMED", () => ether(MAC_A, MAC_GW, 0x0800, ipv4(GW, US, 17, udp(GW, US, 1, 7, hex("00"), { length: 200 })))],
    ["UDP_BAD_CHECKSUM", () => ether(MAC_A, MAC_GW, 0x0800, ipv4(GW, US, 17, udp(GW, US, 1, 7, hex("00"), { checksum: 0x1234 })))],
    ["UDP_NO_SOCKET", () => ether(MAC_A, MAC_GW, 0x0800, ipv4(GW, US, 17, udp(GW, US, 1, 8, hex("00"))))],
  ];
  for (const [name, frame] of cases) {
    it(name.toLowerCase(), () => {
      learnGateway();
      x.bindEcho(7);
      const before = x.rxDropped();
      expect(input(frame())).toBe(D[name]);
      expect(x.stat(D[name])).toBe(1n);
      expect(x.rxDropped()).toBe(before + 1n);
      x.printStats();
      expect(printed).toContain(`${name.toLowerCase()}=1`);
    });
  }

  it("the IPv4 TTL is not a reason to drop (RFC 1122 §3.2.1.7): TTL 0 and 1 are accepted", () => {
    learnGateway();
    expect(input(ether(MAC_A, MAC_GW, 0x0800, echo({ ttl: 0 })))).toBe(0);
    expect(input(ether(MAC_A, MAC_GW, 0x0800, echo({ ttl: 1 })))).toBe(0);
  });

  it("transmit drops: too big, no TX buffer, no route", () => {
    learnGateway();
    put(new Uint8Array(1473));
    expect(x.sendUdp(5000, GW, 9, 1473)).toBe(0);
    expect(x.stat(D.TX_TOO_BIG)).toBe(1n);
    expect(x.sendUdp(5000, GW, 9, 1472)).toBe(1);
    x.setTxLimit(0);
    expect(x.sendUdp(5000, GW, 9, 1)).toBe(0);
    expect(x.stat(D.TX_NO_BUFFER)).toBe(1n);
    x.setTxLimit(-1);
    x.setGateway(0);
    expect(x.sendUdp(5000, ip("1.1.1.1"), 9, 1)).toBe(0);
    expect(x.stat(D.TX_NO_ROUTE)).toBe(1n);
    expect(x.rxDropped()).toBe(0n);
  });
});

describe("robustness", () => {
  it("100,000 mutated frames through the fault injector: no trap, every frame accounted for, no leak", () => {
    learnGateway();
    const samples = [
      ether(BROADCAST, MAC_GW, 0x0806, arp(1, MAC_GW, GW, 0n, US)),
      ether(MAC_A, MAC_B, 0x0806, arp(2, MAC_B, B, MAC_A, US)),
      ether(MAC_A, MAC_GW, 0x0800, ipv4(GW, US, 1, icmpEcho(8, 1, 2, hex("000102030405060708090a0b0c0d0e0f")))),
      ether(MAC_A, MAC_GW, 0x0800, ipv4(GW, US, 17, udp(GW, US, 40000, 7, hex("68656c6c6f")))),
      ether(MAC_A, MAC_GW, 0x0800, ipv4(GW, US, 17, udp(GW, US, 40000, 53, hex("68656c6c6f")))),
      ether(MAC_A, MAC_GW, 0x0800, ipv4(GW, US, 1, icmpEcho(8, 1, 2, hex("00")), { ihl: 6 })),
    ];
    for (const s of samples) x.addSample(put(s));
    const t0 = Date.now();
    x.fuzz(100_000, 0xc0ffee);
    const ms = Date.now() - t0;
    const injected = x.fuzzInjectedCount();
    expect(injected).toBe(100_000n);
    const seen = x.rxFrames();
    expect(seen + x.faultyDropped()).toBe(injected);
    expect(x.rxAccepted() + x.rxDropped()).toBe(seen);
    expect(x.rxAccepted()).toBeGreaterThan(1000n);
    for (const k of ["faultyCorrupted", "faultyTruncated", "faultyReordered", "faultyDropped"]) expect(x[k]()).toBeGreaterThan(0n);
    const hit = Object.entries(D).filter(([k, v]) => v < D.TX_NO_BUFFER && x.stat(v) > 0n).map(([k]) => k);
    expect(hit.length).toBeGreaterThanOrEqual(14);
    expect(x.poolAvailable()).toBe(128);
    expect(ms).toBeGreaterThan(-1); // timing is reported, never asserted
  });
});

describe("allocation", () => {
  it("the probe sees allocations (negative control)", () => {
    const m0 = x.allocMark();
    expect(x.allocMark()).toBe(m0);
    x.allocateOne();
    expect(x.allocMark()).not.toBe(m0);
  });

  it("steady-state ICMP and UDP echo allocate nothing", () => {
    learnGateway();
    x.bindEcho(7);
    const ping = put(ether(MAC_A, MAC_GW, 0x0800, ipv4(GW, US, 1, icmpEcho(8, 1, 1, new Uint8Array(56)))));
    const scratch = mem().slice(x.scratch(), x.scratch() + ping);
    const dgram = ether(MAC_A, MAC_GW, 0x0800, ipv4(GW, US, 17, udp(GW, US, 40000, 7, new Uint8Array(100))));
    // Warm up (first use of every path).
    x.input(ping); x.takeTx();
    put(dgram); x.input(dgram.length); x.takeTx();
    const m0 = x.allocMark();
    for (let i = 0; i < 1000; i++) {
      put(scratch);
      expect(x.injectAndPoll(ping)).toBe(1);
      expect(x.takeTx()).toBe(ping);
      put(dgram);
      expect(x.input(dgram.length)).toBe(0);
      expect(x.takeTx()).toBe(dgram.length);
    }
    expect(x.allocMark()).toBe(m0);
    expect(x.rxAccepted()).toBe(2002n + 1n);
  });
});
