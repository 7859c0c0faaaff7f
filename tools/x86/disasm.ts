/**
 * x86 disassembler for tests and listings: a thin wrapper over iced-x86 (npm `iced-x86`, an
 * independent decoder, so it is the oracle the encoder in `assembler.ts` is tested against).
 *
 * Text is iced-x86's Intel (XED-style) formatter with: a space after operand commas, lowercase hex
 * with a `0x` prefix, and the memory operand size always shown (`dword ptr [rax]`), so a listing line
 * states every operand completely. Branch targets print as absolute addresses.
 *
 * Spec: the decoder implements Intel SDM Vol. 2; nothing here is project-specific.
 */
import { Decoder, DecoderOptions, Formatter, FormatterSyntax, MemorySizeOptions } from "iced-x86";

export interface DisasmLine {
  /** Absolute address of the instruction. */
  address: number;
  /** Its bytes as lowercase hex pairs separated by spaces, e.g. "48 89 c8". */
  bytes: string;
  /** Intel syntax, e.g. "mov rax, rcx"; "(bad)" for bytes that do not decode. */
  text: string;
}

/** A formatter configured as described in the header (caller frees it). */
export function makeFormatter(): Formatter {
  const f = new Formatter(FormatterSyntax.Intel);
  f.spaceAfterOperandSeparator = true;
  f.hexPrefix = "0x";
  f.hexSuffix = "";
  f.uppercaseHex = false;
  f.memorySizeOptions = MemorySizeOptions.Always;
  f.branchLeadingZeros = false;
  return f;
}

export function hexBytes(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(" ");
}

/** Decode every instruction in `bytes` (code for a CPU in `bits`-bit mode, placed at `address`). */
export function disassemble(bytes: Uint8Array, bits: 16 | 32 | 64, address: number): DisasmLine[] {
  const decoder = new Decoder(bits, bytes, DecoderOptions.None);
  const formatter = makeFormatter();
  const lines: DisasmLine[] = [];
  try {
    decoder.ip = BigInt(address);
    let offset = 0;
    while (decoder.canDecode) {
      const instr = decoder.decode();
      const length = instr.length;
      const text = instr.isInvalid ? "(bad)" : formatter.format(instr);
      instr.free();
      lines.push({ address: address + offset, bytes: hexBytes(bytes.subarray(offset, offset + length)), text });
      offset += length;
    }
  } finally {
    decoder.free();
    formatter.free();
  }
  return lines;
}

/** A listing: one "address  bytes  text" line per instruction. */
export function listing(bytes: Uint8Array, bits: 16 | 32 | 64, address: number): string {
  return disassemble(bytes, bits, address)
    .map((l) => `${l.address.toString(16).padStart(8, "0")}  ${l.bytes.padEnd(30)}  ${l.text}`)
    .join("\n");
}
