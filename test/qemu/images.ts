/**
 * Throw-away boot images built byte by byte for the runner's tests, independent of the project's
 * own toolchain (tools/image, tools/link): a minimal ELF64 with a PVH note, and a BIOS boot sector.
 *
 * ELF layout (one PT_LOAD, one PT_NOTE):
 *   0x000  ELF header (64 bytes)
 *   0x040  program headers (2 x 56 bytes)
 *   0x0B0  note: namesz=4 descsz=4 type=18 (XEN_ELFNOTE_PHYS32_ENTRY) "Xen\0" entry32 (u32)
 *   0x1000 32-bit code, loaded at physical 0x100000
 */

/** 32-bit code: write `text` to COM1 (0x3F8), then `status` to isa-debug-exit (0xF4), then halt. */
export function serialThenExit32(text: string, status: number): Uint8Array {
  const code: number[] = [0x66, 0xba, 0xf8, 0x03]; // mov dx, 0x3f8
  for (const byte of Buffer.from(text, "latin1")) code.push(0xb0, byte, 0xee); // mov al, b; out dx, al
  code.push(0x66, 0xba, 0xf4, 0x00); // mov dx, 0xf4
  code.push(0xb8, ...u32(status)); // mov eax, status
  code.push(0xef); // out dx, eax
  code.push(0xf4, 0xeb, 0xfd); // hlt; jmp back to hlt (if the exit device is missing)
  return Uint8Array.from(code);
}

/** 32-bit code: write `text` to COM1, then spin forever (`jmp $`). */
export function serialThenSpin32(text: string): Uint8Array {
  const code: number[] = [0x66, 0xba, 0xf8, 0x03];
  for (const byte of Buffer.from(text, "latin1")) code.push(0xb0, byte, 0xee);
  code.push(0xeb, 0xfe); // jmp $
  return Uint8Array.from(code);
}

const LOAD_ADDR = 0x100000;
const CODE_OFFSET = 0x1000;
const NOTE_OFFSET = 0xb0;

/** An ELF64 executable whose PVH entry (32-bit, paging off) is `code` at 0x100000. */
export function pvhElf(code: Uint8Array): Uint8Array {
  const out = new Uint8Array(CODE_OFFSET + code.length);
  const v = new DataView(out.buffer);
  // e_ident: magic, ELFCLASS64, little endian, version 1, System V ABI
  out.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]);
  v.setUint16(16, 2, true); // e_type = ET_EXEC
  v.setUint16(18, 62, true); // e_machine = EM_X86_64
  v.setUint32(20, 1, true); // e_version
  v.setBigUint64(24, BigInt(LOAD_ADDR), true); // e_entry (unused by PVH)
  v.setBigUint64(32, 64n, true); // e_phoff
  v.setBigUint64(40, 0n, true); // e_shoff: no sections
  v.setUint16(52, 64, true); // e_ehsize
  v.setUint16(54, 56, true); // e_phentsize
  v.setUint16(56, 2, true); // e_phnum
  v.setUint16(58, 64, true); // e_shentsize
  // PT_LOAD: the code, R+X, at physical = virtual = 0x100000
  phdr(v, 64, { type: 1, flags: 5, offset: CODE_OFFSET, addr: LOAD_ADDR, size: code.length, align: 0x1000 });
  // PT_NOTE: the PVH entry note
  const noteSize = 12 + 4 + 4;
  phdr(v, 64 + 56, { type: 4, flags: 4, offset: NOTE_OFFSET, addr: 0, size: noteSize, align: 4 });
  v.setUint32(NOTE_OFFSET, 4, true); // namesz ("Xen\0")
  v.setUint32(NOTE_OFFSET + 4, 4, true); // descsz
  v.setUint32(NOTE_OFFSET + 8, 18, true); // type = XEN_ELFNOTE_PHYS32_ENTRY
  out.set([0x58, 0x65, 0x6e, 0], NOTE_OFFSET + 12); // "Xen\0"
  v.setUint32(NOTE_OFFSET + 16, LOAD_ADDR, true); // entry32
  out.set(code, CODE_OFFSET);
  return out;
}

function phdr(
  v: DataView,
  at: number,
  p: { type: number; flags: number; offset: number; addr: number; size: number; align: number },
): void {
  v.setUint32(at, p.type, true);
  v.setUint32(at + 4, p.flags, true);
  v.setBigUint64(at + 8, BigInt(p.offset), true);
  v.setBigUint64(at + 16, BigInt(p.addr), true); // p_vaddr
  v.setBigUint64(at + 24, BigInt(p.addr), true); // p_paddr
  v.setBigUint64(at + 32, BigInt(p.size), true); // p_filesz
  v.setBigUint64(at + 40, BigInt(p.size), true); // p_memsz
  v.setBigUint64(at + 48, BigInt(p.align), true);
}

/**
 * A 2048-byte El Torito no-emulation boot image: 16-bit real-mode code at 0x7C00 that writes
 * `text` to COM1 and `status` to isa-debug-exit.
 */
export function biosBootImage(text: string, status: number): Uint8Array {
  const code: number[] = [0xfa, 0xba, 0xf8, 0x03]; // cli; mov dx, 0x3f8
  for (const byte of Buffer.from(text, "latin1")) code.push(0xb0, byte, 0xee); // mov al, b; out dx, al
  code.push(0xba, 0xf4, 0x00); // mov dx, 0xf4
  code.push(0xb0, status & 0xff); // mov al, status
  code.push(0xee); // out dx, al
  code.push(0xf4, 0xeb, 0xfd); // hlt; jmp back to hlt
  const out = new Uint8Array(2048);
  out.set(code);
  return out;
}

function u32(x: number): number[] {
  return [x & 0xff, (x >>> 8) & 0xff, (x >>> 16) & 0xff, (x >>> 24) & 0xff];
}
