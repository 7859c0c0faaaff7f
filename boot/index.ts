/**
 * boot/: everything that runs before the first wasm instruction.
 *
 * Two ways in, one way on:
 * ```
 *   BIOS, El Torito (ISO)            PVH loader (qemu -kernel, microvm, Firecracker)
 *   0x7C00 real mode: bios.ts         │
 *     E820, A20, flat GDT, CR0.PE     │
 *     copy segments to 1 MiB+         │
 *   entry32Bios ──────────┐   entry32Pvh (ebx = hvm_start_info)
 *                         ▼           ▼
 *                 entry.ts: zero own bss, boot info, GDT, 4 GiB identity page tables (page 0 absent),
 *                 PAE/SSE, EFER.LME/NXE, CR0.PG -> 64-bit: stack, IDT (32 exception gates -> __trap),
 *                 call wasmMain -> isa-debug-exit 0 -> hlt
 * ```
 * Both files are host-side TypeScript that emit machine code with the project's encoder
 * (tools/x86/assembler.ts); the linker (tools/link) places the result. They may import only
 * tools/x86. The machine-level contract they implement is tools/link/ABI.md.
 */
export { emitEntry, type EntryLayout } from "./entry.ts";
export { buildBiosBootFile, type Payload, type PayloadSegment } from "./bios.ts";
