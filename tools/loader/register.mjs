// `node --import ./tools/loader/register.mjs <file.ts>`: runs a TypeScript source of this project
// on Node 20 (the npm scripts do this). Registers hooks.mjs and has stack traces follow source maps.
import { register } from "node:module";

register("./hooks.mjs", import.meta.url);
process.setSourceMapsEnabled(true);
