/**
 * The `npm run wasm` kernel module under Node: `main` runs the guest, and the guest's host
 * functions `__host_trace` (numbers exactly as JavaScript's String(number)), `__host_abort`
 * (text and exit status 1) and `__host_seed`.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { compileWasmHost } from "../../tools/build/compile.ts";
import { GUEST_BYTES, instantiate, writeBiosBootInfo, writeGuestString, type Machine } from "./harness.ts";

let host: Uint8Array<ArrayBuffer>;
beforeAll(async () => {
  host = (await compileWasmHost()).wasm;
});

function booted(opts = {}): Machine {
  const m = instantiate(host, opts);
  writeBiosBootInfo(m, m.clock.ticks, []);
  m.run("_start");
  m.clearSerial();
  return m;
}

/** xorshift64*: reproducible bit patterns. */
function* randomBits(seed: bigint): Generator<bigint> {
  let x = seed;
  const mask = (1n << 64n) - 1n;
  for (;;) {
    x ^= x >> 12n;
    x ^= (x << 25n) & mask;
    x ^= x >> 27n;
    yield (x * 0x2545f4914f6cdd1dn) & mask;
  }
}

function fromBits(bits: bigint): number {
  const v = new DataView(new ArrayBuffer(8));
  v.setBigUint64(0, bits);
  return v.getFloat64(0);
}

const INTEGERS = [
  0, -0, 1, -1, 7, 10, 100, 1e6, 123456789, -987654321, 2 ** 31 - 1, -(2 ** 31), 2 ** 32, 2 ** 32 + 1,
  2 ** 52, 2 ** 53 - 1, -(2 ** 53 - 1), 2 ** 53, 2 ** 53 + 2, 2 ** 60, 2 ** 64, -(2 ** 63), 1e15, 1e16, 1e17,
  123456789012345680000, 1e20, 1e21, 1e22, 1e23, 2 ** 70, 999999999999999900000, 1e21 - 65536,
  4294967295, 65535, 255, -128, 1000000000000, 12345678901234567890,
];
const FRACTIONS = [
  0.1, 0.2, 0.1 + 0.2, 1 / 3, 2 / 3, 0.5, 1.5, -2.5, 0.25, 0.125, 3.14159, Math.PI, Math.E, -Math.SQRT2,
  1e-6, 1e-7, 1.5e-7, 0.000001234, 0.0000001234, 123e-20, 1.7976931348623157e308, 5e-324, 1e-323,
  2.2250738585072014e-308, 2.225073858507201e-308, Number.EPSILON, 4.35, 0.3, 1.005, 9.995, 100.5,
  1234.5678, -0.001, 1e300, 1e-300, 2 ** -1022, 2 ** -1074, 2 ** 1023, 1.7976931348623155e308, 4.9406564584124654e-324,
  5e-7, 9.999999999999999e-7, 1e-5, 123456.789e3, 0.1e-10, 8.41e21, 5e-310, 1 / 7, 22 / 7,
];

function specials(): number[] {
  const out = [NaN, Infinity, -Infinity];
  for (let e = -1074; e <= 1023; e += 7) out.push(2 ** e, -(2 ** e) * 3);
  for (let e = -323; e <= 308; e++) out.push(Number(`1e${e}`), Number(`9.87654321e${e}`));
  return out;
}

function randoms(count: number): number[] {
  const bits = randomBits(0x9e3779b97f4a7c15n);
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const b = bits.next().value as bigint;
    out.push(fromBits(b)); // any bit pattern (finite, NaN, denormal, ...)
    // Same bits, exponent squeezed into a "human" range 2^-30 .. 2^60.
    const exp = 1023n - 30n + (b % 91n);
    out.push(fromBits((b & 0x800f_ffff_ffff_ffffn) | (exp << 52n)));
    // Integers and short decimals.
    out.push(Number(b % 10_000_000_000n) - 5_000_000_000);
    out.push(Number(b % 100_000n) / 100);
  }
  return out;
}

/** Calls __host_trace with up to 5 numbers at a time and compares each line with JS. */
function checkTrace(m: Machine, values: number[]) {
  writeGuestString(m, 0x100, "v:");
  const expected: string[] = [];
  for (let i = 0; i < values.length; i += 5) {
    const chunk = values.slice(i, i + 5);
    const args = [...chunk, 0, 0, 0, 0, 0].slice(0, 5);
    m.run("__host_trace", 0x100, chunk.length, ...args);
    expected.push(`v: ${chunk.map(String).join(" ")}`);
  }
  const got = m.serial().split("\n");
  expect(got.pop()).toBe("");
  // Compare line by line so a failure names the values.
  for (let i = 0; i < expected.length; i++) {
    if (got[i] !== expected[i]) expect(got[i]).toBe(expected[i]);
  }
  expect(got).toHaveLength(expected.length);
}

describe("__host_trace", () => {
  it("prints the message alone when n = 0, and 'null' for a null message", () => {
    const m = booted();
    writeGuestString(m, 0x200, "h\u00e9llo \u{1f600}");
    m.run("__host_trace", 0x200, 0, 1, 2, 3, 4, 5);
    m.run("__host_trace", 0, 2, 1, 2, 0, 0, 0);
    writeGuestString(m, 0x300, "");
    m.run("__host_trace", 0x300, 1, 42, 0, 0, 0, 0);
    expect(m.serial()).toBe("h\u00e9llo \u{1f600}\nnull 1 2\n 42\n");
  });

  it("prints integers exactly as String(number)", () => {
    const m = booted();
    const ints = [...INTEGERS];
    for (let i = -1000; i <= 1000; i += 7) ints.push(i);
    for (let k = 0; k <= 1023; k += 3) ints.push(2 ** k, -(2 ** k) + (k < 53 ? 1 : 0));
    checkTrace(m, ints);
  });

  it("prints fractions, extremes and special values exactly as String(number)", () => {
    const m = booted();
    checkTrace(m, [...FRACTIONS, ...specials()]);
  });

  it("prints 4000 pseudo-random doubles exactly as String(number)", () => {
    const m = booted();
    checkTrace(m, randoms(1000));
  });

  it("refuses strings outside the guest memory", () => {
    const m = booted();
    m.run("__host_trace", GUEST_BYTES + 2, 0, 0, 0, 0, 0, 0);
    const v = m.view();
    writeGuestString(m, 0x400, "x");
    v.setUint32(0x100000 + 0x400 - 4, GUEST_BYTES, true); // length running past the end
    m.run("__host_trace", 0x400, 0, 0, 0, 0, 0, 0);
    m.run("__host_trace", 2, 0, 0, 0, 0, 0, 0);
    expect(m.serial()).toBe("<bad string>\n<bad string>\n<bad string>\n");
  });
});

describe("__host_abort", () => {
  it("prints 'abort: <msg> at <file>:<line>:<col>' and exits with status 1", () => {
    const m = booted();
    writeGuestString(m, 0x100, "index out of range");
    writeGuestString(m, 0x200, "~lib/staticarray.ts");
    expect(m.run("__host_abort", 0x100, 0x200, 105, 41)).toBe(1);
    expect(m.serial()).toBe("abort: index out of range at ~lib/staticarray.ts:105:41\n");
  });

  it("prints null for missing strings", () => {
    const m = booted();
    expect(m.run("__host_abort", 0, 0, 0, 0)).toBe(1);
    expect(m.serial()).toBe("abort: null at null:0:0\n");
  });
});

describe("__host_seed", () => {
  it("returns positive finite numbers in [2^40, 2^41) that change with the TSC", () => {
    const m = booted();
    const seeds = new Set<number>();
    for (let i = 0; i < 50; i++) {
      const s = m.exports.__host_seed() as number;
      expect(Number.isFinite(s)).toBe(true);
      expect(s).toBeGreaterThanOrEqual(2 ** 40);
      expect(s).toBeLessThan(2 ** 41);
      seeds.add(s);
    }
    expect(seeds.size).toBe(50);
  });
});

describe("main", () => {
  it("runs the guest through guest.run", () => {
    let ran = 0;
    const m = booted({ guestRun: () => ran++ });
    expect(m.run("main")).toBeUndefined();
    expect(ran).toBe(1);
  });
});
