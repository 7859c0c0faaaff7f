/** Test helper: WebAssembly text -> binary with wabt's wat2wasm (npm `wabt`), all 2.0 features on. */
import wabtInit from "wabt";

const wabt = await wabtInit();

export function wat(text: string, opts: { names?: boolean } = {}): Uint8Array {
  const features = { simd: true, bulk_memory: true, reference_types: true, multi_value: true, sat_float_to_int: true, sign_extension: true };
  const mod = wabt.parseWat("test.wat", text, features);
  try {
    mod.resolveNames();
    return mod.toBinary({ write_debug_names: opts.names ?? false }).buffer;
  } finally {
    mod.destroy();
  }
}

/** A module header followed by raw sections, for hand-built malformed inputs. */
export function rawModule(...sections: number[][]): Uint8Array {
  return new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, ...sections.flat()]);
}

/** A section: id, u32 size (single-byte LEB, < 128), contents. */
export function section(id: number, contents: number[]): number[] {
  if (contents.length > 127) throw new Error("section helper: contents too long");
  return [id, contents.length, ...contents];
}
