// Runs a benchmark module's `main` under V8's optimising tier only (TurboFan: started with
// --no-liftoff by tools/bench/translator.ts) and prints {ms, output} as JSON on stdout.
// Usage: node --no-liftoff tools/bench/v8-runner.mjs <module.wasm>
import { readFileSync } from "node:fs";

const wasm = readFileSync(process.argv[2]);
let memory;
const lines = [];
function readString(ptr) {
  const dv = new DataView(memory.buffer);
  const len = dv.getUint32(ptr - 4, true);
  let s = "";
  for (let i = 0; i < len; i += 2) s += String.fromCharCode(dv.getUint16(ptr + i, true));
  return s;
}
const env = {
  abort() { throw new Error("abort"); },
  trace(msg, n, ...a) { lines.push([readString(msg), ...a.slice(0, n).map(String)].join(" ")); },
  seed() { return 1; },
};
const module = new WebAssembly.Module(wasm); // compiled eagerly by TurboFan (no Liftoff)
const instance = new WebAssembly.Instance(module, { env });
memory = instance.exports.memory;
const t = performance.now();
instance.exports.main();
const ms = performance.now() - t;
process.stdout.write(JSON.stringify({ ms, output: lines.join("\n") }));
