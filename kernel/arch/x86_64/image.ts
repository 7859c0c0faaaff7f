// Image intrinsics: addresses the linker fixed when it laid out the bootable image.
//
// The only place the kernel declares `image.*` imports (tools/link/ABI.md, "Intrinsics").
// The translator replaces each call with a constant; under Node tests they are JS functions.

@external("image", "bootInfo") declare function image_bootInfo(): usize;
@external("image", "symbolTable") declare function image_symbolTable(): usize;
@external("image", "stackTop") declare function image_stackTop(): usize;
@external("image", "stackLimit") declare function image_stackLimit(): usize;
@external("image", "guestMemoryBase") declare function image_guestMemoryBase(): usize;
@external("image", "guestMemoryBytes") declare function image_guestMemoryBytes(): usize;
@external("image", "interruptPending") declare function image_interruptPending(): usize;

/** Address of the boot info record written by the boot stub (layout in ABI.md). */
@inline export function bootInfoAddress(): usize { return image_bootInfo(); }
/** Address of the function symbol table (u32 count, u32 0, entries of 16 bytes). */
@inline export function symbolTableAddress(): usize { return image_symbolTable(); }
/** Initial stack pointer of the wasm code. */
@inline export function stackTop(): usize { return image_stackTop(); }
/** Address of the u64 stack limit checked by every prologue. */
@inline export function stackLimit(): usize { return image_stackLimit(); }
/** Kernel address of a sandboxed guest's linear memory byte 0; 0 when there is no guest. */
@inline export function guestMemoryBase(): usize { return image_guestMemoryBase(); }
/** Current size in bytes of the guest's linear memory. */
@inline export function guestMemoryBytes(): usize { return image_guestMemoryBytes(); }
/** The 32-byte bitmap of pending interrupt vectors the native stubs set (ABI.md "Interrupts"). */
@inline export function interruptPendingAddress(): usize { return image_interruptPending(); }
