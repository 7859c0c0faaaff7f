import { runOnMetal, runOnV8, watToWasm } from "./test/translate/harness.ts";
import * as cases from "./test/translate/cases.ts";
for (const [n, wat] of [["control", cases.controlModule()], ["memory", cases.memoryModule()], ["int", cases.integerModule()]] as const) {
  const wasm = await watToWasm(wat);
  const v8 = await runOnV8(wasm);
  const t = Date.now();
  const metal = await runOnMetal(wasm);
  console.log(n, "v8 lines", v8.output.length, "status", v8.status, "metal lines", metal.output.length, "status", metal.status, Date.now() - t, "ms");
  let diffs = 0;
  for (let i = 0; i < Math.max(v8.output.length, metal.output.length); i++) {
    if (v8.output[i] !== metal.output[i]) { if (diffs++ < 8) console.log(i, JSON.stringify(v8.output[i]), JSON.stringify(metal.output[i])); }
  }
  if (metal.output.length < 3) console.log(metal.raw.slice(0, 2000));
}
