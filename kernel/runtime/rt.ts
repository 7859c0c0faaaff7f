// Entry of the kernel's AssemblyScript runtime for `asc --runtime kernel/runtime/rt`.
// asc parses this file as an entry: it must export nothing (exports would become module exports),
// so the @global runtime functions live in globals.ts.
import "./globals";
