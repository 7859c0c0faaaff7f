/**
 * The image pipeline shared by `npm run image`, `npm run wasm` and the tests:
 * AssemblyScript -> wasm (asc) -> validated module -> linked image (ELF + El Torito boot file) -> ISO.
 */
import { readModule, type ReadOptions } from "../wasm/reader.ts";
import type { WasmModule } from "../wasm/types.ts";
import { validateModule } from "../wasm/validate.ts";
import type { Tier } from "../translate/module.ts";
import { writeIso9660 } from "../image/iso9660.ts";
import { linkImage, type LinkedImage } from "./image.ts";
import { compileKernelApp, compileWasmHost, kernelAscFlags, runAsc, PROJECT_ROOT } from "../build/compile.ts";
import { linkHosted, type HostedImage } from "./hosted.ts";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { Stages } from "../cli/stages.ts";

export interface AppImage extends LinkedImage {
  iso: Uint8Array;
  wasm: Uint8Array;
}

/** Build options a developer chooses: `inline: false` keeps every call (each function its own frame and ELF symbol, for gdb);
 *  `tier: "quick"` translates in one quick pass where it can (tools/translate/quick/). */
export interface BuildOptions { inline?: boolean; tier?: Tier }

/** How to read a module for translator tier `tier`: the quick tier reads the function bodies
 *  itself, so they are decoded (and validated) only when the optimising tier needs one. */
export function readOptions(tier: Tier | undefined): ReadOptions {
  return { lazyBodies: tier === "quick" };
}

/** A module read and validated for translator tier `tier`. Throws WasmError. */
export function readValidated(wasm: Uint8Array, tier?: Tier): WasmModule {
  const m = readModule(wasm, readOptions(tier));
  validateModule(m);
  return m;
}

export async function buildAppImage(appDir: string, stages = new Stages(() => {}), opts: BuildOptions = {}): Promise<AppImage> {
  const compiled = await stages.run(`asc ${appDir} + kernel`, () => compileKernelApp(appDir));
  const mod = await stages.run("read + validate wasm", () => readValidated(compiled.wasm, opts.tier));
  const linked = await stages.run("translate + link", () => linkImage({ kernel: mod, inline: opts.inline, tier: opts.tier }));
  const iso = await stages.run("write ISO 9660 + El Torito", () =>
    writeIso9660({
      volumeId: appDir.split("/").pop()!.toUpperCase().replace(/[^A-Z0-9_]/g, "_").slice(0, 32),
      files: [
        { name: "BOOT.BIN", data: linked.bootFile! },
        { name: "KERNEL.ELF", data: linked.elf },
      ],
      boot: { file: "BOOT.BIN" },
    }),
  );
  return { ...linked, iso, wasm: compiled.wasm };
}

let hostCache: Promise<Uint8Array> | undefined;
/**
 * The kernel module that hosts a guest (`npm run wasm`). Compiled once per process and cached on
 * disk under build/cache/, keyed by a hash of the kernel's sources and the compiler version, so
 * a later run skips asc when nothing changed.
 */
export function wasmHostModule(): Promise<Uint8Array> {
  return (hostCache ??= cachedWasmHost());
}

async function cachedWasmHost(flavour = "wasm-host", compile: () => Promise<{ wasm: Uint8Array }> = compileWasmHost): Promise<Uint8Array> {
  const hash = createHash("sha256");
  const files = readdirSync(join(PROJECT_ROOT, "kernel"), { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".ts"))
    .sort();
  for (const f of files) {
    hash.update(f);
    hash.update(readFileSync(join(PROJECT_ROOT, "kernel", f)));
  }
  hash.update(readFileSync(join(PROJECT_ROOT, "tools/build/compile.ts")));
  hash.update(readFileSync(join(PROJECT_ROOT, "node_modules/assemblyscript/package.json")));
  const file = join(PROJECT_ROOT, "build", "cache", `${flavour}-${hash.digest("hex").slice(0, 16)}.wasm`);
  if (existsSync(file)) return new Uint8Array(readFileSync(file));
  const wasm = (await compile()).wasm;
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, wasm);
  renameSync(tmp, file); // atomic: parallel test workers may race here
  return wasm;
}

/** Link an arbitrary guest module with the wasm host kernel. Throws WasmError / UnsupportedError. */
export async function buildGuestImage(guestWasm: Uint8Array, stages = new Stages(() => {}), opts: BuildOptions = {}): Promise<LinkedImage> {
  const hostWasm = await stages.run("asc kernel/wasm-host", () => wasmHostModule());
  const host = readModule(hostWasm, readOptions(opts.tier));
  const guest = await stages.run("read + validate guest", () => readValidated(guestWasm, opts.tier));
  return stages.run("translate + link", () => linkImage({ kernel: host, guest, bios: false, inline: opts.inline, tier: opts.tier }));
}

let linuxHostCache: Promise<Uint8Array> | undefined;
/** The kernel module of hosted images (kernel/wasm-host-linux.ts), cached like wasmHostModule(). */
export function wasmHostLinuxModule(): Promise<Uint8Array> {
  return (linuxHostCache ??= cachedWasmHost("wasm-host-linux", () =>
    runAsc("kernel/wasm-host-linux.ts", ["kernel/wasm-host-linux.ts"], kernelAscFlags(true))));
}

/** Link a guest module with the Linux host kernel as a Linux executable (tools/link/hosted.ts). */
export async function buildHostedImage(guestWasm: Uint8Array, stages = new Stages(() => {}), opts: BuildOptions = {}): Promise<HostedImage> {
  const host = readModule(await stages.run("asc kernel/wasm-host-linux", () => wasmHostLinuxModule()), readOptions(opts.tier));
  const guest = await stages.run("read + validate guest", () => readValidated(guestWasm, opts.tier));
  return stages.run("translate + link (hosted)", () => linkHosted({ kernel: host, guest, inline: opts.inline, tier: opts.tier }));
}
