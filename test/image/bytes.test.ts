/** Tests for tools/image/bytes.ts: byte orders (incl. ISO 9660 both-byte-order), range checks, growth. */
import { describe, expect, it } from "vitest";
import { ByteWriter } from "../../tools/image/bytes.ts";

describe("ByteWriter", () => {
  it("writes little-endian, big-endian and both-byte-order fields", () => {
    const w = new ByteWriter(16);
    w.u8(0x01).u16(0x0302).u32(0x07060504).u64(0x0f0e0d0c0b0a0908n).u16be(0x1011).u32be(0x12131415);
    w.u16both(0x1234).u32both(0x89abcdef);
    expect([...w.finish()]).toEqual([
      0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
      0x10, 0x11, 0x12, 0x13, 0x14, 0x15,
      0x34, 0x12, 0x12, 0x34,
      0xef, 0xcd, 0xab, 0x89, 0x89, 0xab, 0xcd, 0xef,
    ]);
  });

  it("writes u64 from numbers above 2^32", () => {
    expect([...new ByteWriter().u64(0x123456789a).finish()]).toEqual([0x9a, 0x78, 0x56, 0x34, 0x12, 0, 0, 0]);
  });

  it("refuses values that do not fit", () => {
    const w = new ByteWriter();
    expect(() => w.u8(256)).toThrow(/8-bit/);
    expect(() => w.u16(-1)).toThrow(/16-bit/);
    expect(() => w.u32(2 ** 32)).toThrow(/32-bit/);
    expect(() => w.u64(1n << 64n)).toThrow(/64-bit/);
    expect(() => w.u64(2 ** 53)).toThrow(/safe/);
    expect(() => w.u8(1.5)).toThrow();
    expect(() => w.ascii("é")).toThrow(/non-ASCII/);
    expect(() => w.asciiPadded("toolong", 3)).toThrow(/longer/);
    expect(w.length).toBe(0);
  });

  it("grows past its initial capacity and keeps earlier bytes", () => {
    const w = new ByteWriter(16);
    for (let i = 0; i < 10000; i++) w.u8(i & 0xff);
    const out = w.finish();
    expect(out.length).toBe(10000);
    expect(out[0]).toBe(0);
    expect(out[9999]).toBe(9999 & 0xff);
  });

  it("pads, aligns and patches", () => {
    const w = new ByteWriter();
    w.u8(1).align(4).asciiPadded("AB", 4).padTo(12);
    w.patchU16(2, 0xbeef);
    w.patchU32(8, 0xdeadbeef);
    expect([...w.finish()]).toEqual([1, 0, 0xef, 0xbe, 0x41, 0x42, 0x20, 0x20, 0xef, 0xbe, 0xad, 0xde]);
    expect(() => w.padTo(4)).toThrow(/behind/);
    expect(() => w.patchU32(10, 0)).toThrow(/outside/);
  });
});
