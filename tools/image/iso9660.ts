/**
 * ISO 9660 writer with an El Torito "no emulation" boot entry: the BIOS image of the unikernel.
 *
 * Implements: ECMA-119 (4th ed., = ISO 9660) §6.2 logical sectors of 2048 bytes, §8.4 Primary
 * Volume Descriptor, §8.3 Volume Descriptor Set Terminator, §9.1 directory records, §9.4 path
 * tables (L and M), §7 numerical and date formats (§7.2.3 / §7.3.3 both-byte orders, §8.4.26.1 /
 * §9.1.5 dates); El Torito Bootable CD-ROM Format Specification 1.0 §2.0 Boot Record Volume
 * Descriptor (at sector 17), §2.1 Validation Entry, §2.2 Initial/Default Entry.
 *
 * Layout (2048-byte sectors):
 * ```
 *   0..15   system area (zero)
 *   16      Primary Volume Descriptor
 *   17      El Torito Boot Record Volume Descriptor   (only with `boot`)
 *   next    Volume Descriptor Set Terminator
 *   next    type L path table, then type M path table (one sector each: only the root)
 *   next    root directory ("." and ".." then the files, sorted by identifier)
 *   next    boot catalog                               (only with `boot`, not listed as a file)
 *   next    file contents, each from a sector boundary, in the order given
 * ```
 *
 * File names: the volume is flat (root directory only). A name is a plain ISO 9660 file name
 * (level 2): d-characters `A-Z 0-9 _`, at most one `.` separating name and extension, 1..30
 * characters; lower-case letters are upper-cased (so "hello.elf" is stored as "HELLO.ELF;1").
 * A name containing `/` or any other character is an error (no silent flattening).
 *
 * BIOS boot: the boot file is loaded by the firmware at `loadSegment`:0 (default 0x07C0, i.e.
 * 0x7C00) as `loadSectors` 512-byte sectors (default: the whole file, rounded up) and entered at
 * `loadSegment:0000` in real mode (SeaBIOS: CS = loadSegment, IP = 0).
 * Measured with QEMU 7.2's SeaBIOS (-M pc and q35, test/image/iso9660.test.ts): the whole file is
 * loaded correctly up to 0x98400 bytes (ending exactly at 0xA0000), though beyond 0x78000 bytes
 * it overwrites the EBDA at 0x9FC00 - hence the ABI's limit of 0x78000 bytes (end 0x7FC00).
 */

import { ByteWriter, asciiBytes } from "./bytes.ts";

export interface IsoFile {
  /** Flat ISO 9660 name like "HELLO.ELF" (lower case is upper-cased; no directories). */
  name: string;
  data: Uint8Array;
}
export interface IsoOptions {
  /** d-characters, at most 32 (lower case is upper-cased). */
  volumeId: string;
  files: IsoFile[];
  boot?: {
    /** Name of one of `files` (as given there). */
    file: string;
    /** Real-mode segment the BIOS loads the file to; default 0x07C0. */
    loadSegment?: number;
    /** 512-byte sectors the BIOS loads; default = whole file. Must be <= 0xFFFF and fit below 0xA0000. */
    loadSectors?: number;
  };
  /** Recording date of the volume and every directory record; default: $SOURCE_DATE_EPOCH or now. */
  date?: Date;
}

export const SECTOR = 2048; // ECMA-119 §6.1.2: logical sector size
const VIRTUAL_SECTOR = 512; // El Torito §2.2: sector count unit
const FIRST_VD_SECTOR = 16; // ECMA-119 §6.2.1: system area is sectors 0..15
const BOOT_RECORD_SECTOR = 17; // El Torito §2.0
const CONVENTIONAL_MEMORY_END = 0xa0000; // start of the EBDA/VGA hole: a no-emulation load must end below

const VD_BOOT_RECORD = 0;
const VD_PRIMARY = 1;
const VD_TERMINATOR = 255;
const FLAG_DIRECTORY = 2; // ECMA-119 §9.1.6 bit 1

export function writeIso9660(opts: IsoOptions): Uint8Array {
  const date = opts.date ?? defaultDate();
  const volumeId = opts.volumeId.toUpperCase();
  if (!/^[A-Z0-9_]{0,32}$/.test(volumeId)) {
    throw new Error(`volume id "${opts.volumeId}" must be at most 32 characters of A-Z 0-9 _`);
  }

  // ---- files: names, uniqueness, sort order of the directory (ECMA-119 §9.3) ----
  const files = opts.files.map((f) => ({ given: f.name, id: isoFileIdentifier(f.name), data: f.data, sector: 0 }));
  const seen = new Set<string>();
  for (const f of files) {
    if (seen.has(f.id)) throw new Error(`two files are named ${f.id}`);
    seen.add(f.id);
    if (f.data.length > 0xffffffff) throw new Error(`${f.id} is larger than 4 GiB - 1`);
  }
  const dirOrder = [...files].sort((a, b) => compareIds(a.id, b.id));

  let bootFile: (typeof files)[number] | undefined;
  let loadSegment = 0x07c0;
  let loadSectors = 0;
  if (opts.boot) {
    bootFile = files.find((f) => f.given === opts.boot!.file) ?? files.find((f) => f.id === isoFileIdentifier(opts.boot!.file));
    if (!bootFile) throw new Error(`boot file "${opts.boot.file}" is not one of the files`);
    loadSegment = opts.boot.loadSegment ?? 0x07c0;
    if (!Number.isInteger(loadSegment) || loadSegment <= 0 || loadSegment > 0xffff) {
      throw new Error(`load segment 0x${loadSegment.toString(16)} is not a real-mode segment`);
    }
    loadSectors = opts.boot.loadSectors ?? Math.ceil(bootFile.data.length / VIRTUAL_SECTOR);
    if (!Number.isInteger(loadSectors) || loadSectors < 1) throw new Error(`bad loadSectors ${loadSectors}`);
    if (loadSectors > 0xffff) {
      throw new Error(`boot file needs ${loadSectors} 512-byte sectors; El Torito allows at most 0xFFFF`);
    }
    const end = loadSegment * 16 + loadSectors * VIRTUAL_SECTOR;
    if (end > CONVENTIONAL_MEMORY_END) {
      throw new Error(
        `boot file loaded at 0x${(loadSegment * 16).toString(16)} as ${loadSectors} sectors ends at ` +
          `0x${end.toString(16)}, beyond conventional memory (0xA0000)`,
      );
    }
  }

  // ---- sector allocation ----
  let next = FIRST_VD_SECTOR + 1; // after the PVD
  if (bootFile) next = BOOT_RECORD_SECTOR + 1;
  next++; // terminator
  const lPathSector = next++;
  const mPathSector = next++;
  const rootSector = next;
  const rootSize = directorySize(dirOrder.map((f) => f.id));
  next += rootSize / SECTOR;
  const catalogSector = bootFile ? next++ : 0;
  for (const f of files) {
    f.sector = next;
    next += Math.ceil(f.data.length / SECTOR);
  }
  const totalSectors = next;

  const w = new ByteWriter(totalSectors * SECTOR);
  w.zeros(FIRST_VD_SECTOR * SECTOR); // system area

  // ---- Primary Volume Descriptor (ECMA-119 §8.4) ----
  const pathTableSize = 10; // one record: root (8 + identifier length 1 + 1 pad)
  const rootRecord = directoryRecord("\0", rootSector, rootSize, FLAG_DIRECTORY, date);
  const pvd = w.length;
  w.u8(VD_PRIMARY).ascii("CD001").u8(1).u8(0); // type, standard identifier, version, unused
  w.asciiPadded("", 32); // system identifier (a-characters)
  w.asciiPadded(volumeId, 32); // volume identifier (d-characters)
  w.zeros(8);
  w.u32both(totalSectors); // volume space size
  w.zeros(32);
  w.u16both(1); // volume set size
  w.u16both(1); // volume sequence number
  w.u16both(SECTOR); // logical block size
  w.u32both(pathTableSize);
  w.u32(lPathSector).u32(0); // type L path table, optional copy
  w.u32be(mPathSector).u32be(0); // type M path table, optional copy
  w.bytes(rootRecord); // 34 bytes
  w.asciiPadded("", 128); // volume set identifier
  w.asciiPadded("", 128); // publisher
  w.asciiPadded("", 128); // data preparer
  w.asciiPadded("TSUNIKERNEL", 128); // application identifier
  w.asciiPadded("", 37).asciiPadded("", 37).asciiPadded("", 37); // copyright, abstract, bibliographic files
  w.bytes(volumeDate(date)); // creation
  w.bytes(volumeDate(date)); // modification
  w.bytes(volumeDate(undefined)); // expiration: not specified
  w.bytes(volumeDate(undefined)); // effective: not specified
  w.u8(1).u8(0); // file structure version, reserved
  w.padTo(pvd + SECTOR); // application use (512) + reserved (653)

  // ---- El Torito Boot Record Volume Descriptor (El Torito §2.0) ----
  if (bootFile) {
    const br = w.length;
    w.u8(VD_BOOT_RECORD).ascii("CD001").u8(1);
    w.asciiPadded("EL TORITO SPECIFICATION", 32, 0); // boot system identifier
    w.zeros(32); // boot identifier
    w.u32(catalogSector); // absolute pointer to the boot catalog
    w.padTo(br + SECTOR);
  }

  // ---- Volume Descriptor Set Terminator (ECMA-119 §8.3) ----
  const term = w.length;
  w.u8(VD_TERMINATOR).ascii("CD001").u8(1);
  w.padTo(term + SECTOR);

  // ---- path tables (ECMA-119 §9.4): the root only, parent = itself (1) ----
  w.u8(1).u8(0).u32(rootSector).u16(1).u8(0).u8(0);
  w.padTo((lPathSector + 1) * SECTOR);
  w.u8(1).u8(0).u32be(rootSector).u16be(1).u8(0).u8(0);
  w.padTo((mPathSector + 1) * SECTOR);

  // ---- root directory (ECMA-119 §6.8.1, §9.1): records never straddle a sector ----
  const records = [
    rootRecord,
    directoryRecord("\x01", rootSector, rootSize, FLAG_DIRECTORY, date),
    ...dirOrder.map((f) => directoryRecord(f.id, f.sector, f.data.length, 0, date)),
  ];
  const rootStart = w.length;
  for (const r of records) {
    const used = (w.length - rootStart) % SECTOR;
    if (used + r.length > SECTOR) w.align(SECTOR);
    w.bytes(r);
  }
  w.padTo(rootStart + rootSize);

  // ---- boot catalog (El Torito §2.1 validation entry, §2.2 initial/default entry) ----
  if (bootFile) {
    const cat = new ByteWriter(64);
    cat.u8(1).u8(0).u16(0); // header id, platform 0 = 80x86, reserved
    cat.asciiPadded("", 24, 0); // manufacturer/developer id
    cat.u16(0).u8(0x55).u8(0xaa); // checksum (patched below), key bytes
    const bytes = cat.finish();
    let sum = 0;
    for (let i = 0; i < 32; i += 2) sum = (sum + bytes[i] + (bytes[i + 1] << 8)) & 0xffff;
    const checksum = (0x10000 - sum) & 0xffff; // all 16 words must sum to 0
    bytes[28] = checksum & 0xff;
    bytes[29] = checksum >> 8;
    w.bytes(bytes);
    w.u8(0x88); // boot indicator: bootable
    w.u8(0); // boot media type: no emulation
    w.u16(loadSegment);
    w.u8(0); // system type (partition table byte; unused for no emulation)
    w.u8(0);
    w.u16(loadSectors);
    w.u32(bootFile.sector); // load RBA
    w.zeros(20);
    w.padTo((catalogSector + 1) * SECTOR);
  }

  // ---- file contents ----
  for (const f of files) {
    w.padTo(f.sector * SECTOR);
    w.bytes(f.data);
  }
  w.padTo(totalSectors * SECTOR);
  return w.finish();
}

/** "hello.elf" -> "HELLO.ELF;1" (ECMA-119 §7.5.1 file identifier; level 2 length limit). */
export function isoFileIdentifier(name: string): string {
  const up = name.toUpperCase();
  if (!/^[A-Z0-9_]*(\.[A-Z0-9_]*)?$/.test(up) || up.replace(".", "").length === 0) {
    throw new Error(`file name "${name}" must be A-Z 0-9 _ with at most one "." (flat: no directories)`);
  }
  if (up.length > 30) throw new Error(`file name "${name}" is longer than 30 characters`);
  return (up.includes(".") ? up : up + ".") + ";1";
}

/** ECMA-119 §9.3: order by name, then extension, each compared as if padded with spaces. */
function compareIds(a: string, b: string): number {
  const split = (s: string) => {
    const [nameExt] = s.split(";");
    const [n, e] = nameExt.split(".");
    return [n, e ?? ""];
  };
  const [an, ae] = split(a);
  const [bn, be] = split(b);
  const cmp = (x: string, y: string) => {
    const len = Math.max(x.length, y.length);
    const xp = x.padEnd(len, " ");
    const yp = y.padEnd(len, " ");
    return xp < yp ? -1 : xp > yp ? 1 : 0;
  };
  return cmp(an, bn) || cmp(ae, be);
}

/** ECMA-119 §9.1: one directory record (33 bytes + identifier, padded to even length). */
function directoryRecord(id: string, sector: number, size: number, flags: number, date: Date): Uint8Array {
  const idBytes = asciiBytes(id);
  const len = 33 + idBytes.length + (idBytes.length % 2 === 0 ? 1 : 0);
  const r = new ByteWriter(len);
  r.u8(len).u8(0); // record length, extended attribute record length
  r.u32both(sector).u32both(size);
  r.bytes(recordingDate(date));
  r.u8(flags).u8(0).u8(0); // flags, file unit size, interleave gap
  r.u16both(1); // volume sequence number
  r.u8(idBytes.length).bytes(idBytes);
  r.padTo(len);
  return r.finish();
}

/** Bytes taken by the root directory, in whole sectors ("." + ".." + files, no straddling). */
function directorySize(ids: string[]): number {
  const lens = [34, 34, ...ids.map((id) => 33 + id.length + (id.length % 2 === 0 ? 1 : 0))];
  let sectors = 1;
  let used = 0;
  for (const l of lens) {
    if (used + l > SECTOR) {
      sectors++;
      used = 0;
    }
    used += l;
  }
  return sectors * SECTOR;
}

/** ECMA-119 §9.1.5: 7 bytes: years since 1900, month, day, hour, minute, second, GMT offset (UTC). */
function recordingDate(d: Date): Uint8Array {
  const year = d.getUTCFullYear() - 1900;
  if (year < 0 || year > 255) throw new Error(`date ${d.toISOString()} is outside 1900..2155`);
  return new Uint8Array([year, d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), 0]);
}

/** ECMA-119 §8.4.26.1: "YYYYMMDDHHMMSScc" digits + GMT offset byte; all "0" and 0 = not specified. */
function volumeDate(d: Date | undefined): Uint8Array {
  if (!d) return new Uint8Array([...asciiBytes("0000000000000000"), 0]);
  const p = (n: number, w: number) => String(n).padStart(w, "0");
  const text =
    p(d.getUTCFullYear(), 4) + p(d.getUTCMonth() + 1, 2) + p(d.getUTCDate(), 2) +
    p(d.getUTCHours(), 2) + p(d.getUTCMinutes(), 2) + p(d.getUTCSeconds(), 2) +
    p(Math.floor(d.getUTCMilliseconds() / 10), 2);
  return new Uint8Array([...asciiBytes(text), 0]);
}

function defaultDate(): Date {
  const epoch = process.env.SOURCE_DATE_EPOCH;
  if (epoch !== undefined && /^\d+$/.test(epoch)) return new Date(Number(epoch) * 1000);
  return new Date();
}
