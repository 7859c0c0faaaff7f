import { runOnMetal, runOnV8, watToWasm } from "./test/translate/harness.ts";
import * as cases from "./test/translate/cases.ts";
for (const [n, wat] of [["float", cases.floatModule()]] as const) {
  const wasm = await watToWasm(wat);
  const v8 = await runOnV8(wasm);
  const t = Date.now();
  const metal = await runOnMetal(wasm);
  console.log(n, "v8 lines", v8.output.length, "status", v8.status, "metal lines", metal.output.length, "status", metal.status, Date.now() - t, "ms");
  let diffs = 0;
  const src = wat.split("\n");
  for (let i = 0; i < Math.max(v8.output.length, metal.output.length); i++) {
    if (v8.output[i] !== metal.output[i]) { if (diffs++ < 20) console.log(i, JSON.stringify(v8.output[i]), JSON.stringify(metal.output[i])); }
  }
  console.log("diffs", diffs);
  if (metal.output.length < 3) console.log(metal.raw.slice(0, 2000));
}
for (const c of cases.TRAP_CASES) {
  const wasm = await watToWasm(cases.trapModule(c));
  const v8 = await runOnV8(wasm);
  const metal = await runOnMetal(wasm);
  const ok = JSON.stringify(v8.output) === JSON.stringify(metal.output) && v8.status === metal.status && metal.raw.includes("trapping_function");
  console.log(ok ? "ok  " : "FAIL", c.kind, JSON.stringify(v8.output), v8.status, "|", JSON.stringify(metal.output), metal.status);
  if (!ok) console.log(metal.raw);
}
