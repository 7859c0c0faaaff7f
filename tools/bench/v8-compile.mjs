// Compiles a wasm module once with V8 (WebAssembly.compile: eager, no cache in a fresh process) and
// prints the time as JSON on stdout: {ms}. The tier and threads come from the flags the caller
// (tools/bench/translate-speed.ts) starts Node with, e.g. --no-liftoff --single-threaded
// --no-wasm-lazy-compilation for TurboFan on one thread.
// Usage: node <flags> tools/bench/v8-compile.mjs <module.wasm>
import { readFileSync } from "node:fs";

const wasm = readFileSync(process.argv[2]);
const t = performance.now();
await WebAssembly.compile(wasm);
console.log(JSON.stringify({ ms: performance.now() - t }));
