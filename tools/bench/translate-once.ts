// Reads, validates, translates and links a guest module with the Linux host kernel once, in the
// fresh process it is started in (the code of the translator not yet optimised by V8: what one
// `npm run wasm -- --hosted` pays), and prints the time as JSON on stdout: {ms}. Started by
// tools/bench/translate-speed.ts. Usage: npm run ts -- tools/bench/translate-once.ts <guest.wasm> <host.wasm> [quick]
// (`quick`: through the quick tier, tools/translate/quick/, bodies read lazily as `--quick` does).
import { readFileSync } from "node:fs";
import { linkHosted } from "../link/hosted.ts";
import { readValidated } from "../link/build.ts";

const [guest, host] = process.argv.slice(2, 4).map((f) => new Uint8Array(readFileSync(f)));
const tier = process.argv[4] === "quick" ? "quick" : "optimizing";
const t = performance.now();
linkHosted({ kernel: readValidated(host, tier), guest: readValidated(guest, tier), tier });
console.log(JSON.stringify({ ms: performance.now() - t }));
