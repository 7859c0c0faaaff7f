/**
 * Builds a one-off bare-metal image from a kernel app given as a string (compileKernelApp's
 * `files` option: AssemblyScript must not live in test/**\/*.ts files the repo typecheck sees) and
 * boots it under QEMU (PVH, short hard timeout).
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compileKernelApp } from "../../tools/build/compile.ts";
import { readModule } from "../../tools/wasm/reader.ts";
import { validateModule } from "../../tools/wasm/validate.ts";
import { linkImage, type LinkedImage } from "../../tools/link/image.ts";
import { runQemu, type QemuOptions, type QemuResult } from "../../tools/qemu/runner.ts";

export const APP_DIR = "test/kernel-memory/apps";
/** Path from an app's virtual main.ts (APP_DIR/<name>/main.ts) to kernel/. */
export const KERNEL = "../../../../kernel";

export interface BuiltApp extends LinkedImage {
  elfPath: string;
}

/** Compiles kernel + `source` as <APP_DIR>/<name>/main.ts, links, writes the ELF to a temp dir. */
export async function buildApp(name: string, source: string): Promise<BuiltApp> {
  const dir = `${APP_DIR}/${name}`;
  const compiled = await compileKernelApp(dir, { files: { [`${dir}/main.ts`]: source } });
  const mod = readModule(compiled.wasm);
  validateModule(mod);
  const linked = linkImage({ kernel: mod, bios: false });
  const elfPath = join(mkdtempSync(join(tmpdir(), `mem-${name}-`)), `${name}.elf`);
  writeFileSync(elfPath, linked.elf);
  return { ...linked, elfPath };
}

/** Boots a built app via PVH (microvm unless told otherwise). */
export function bootApp(app: BuiltApp, opts: Partial<QemuOptions> = {}): Promise<QemuResult> {
  return runQemu({ kernel: app.elfPath, machine: "microvm", timeoutMs: 30_000, ...opts });
}
