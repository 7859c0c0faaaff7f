/** WebAssembly core spec suite on the hosted target, first half (see suite.ts). */
import { specShard } from "./suite.ts";
specShard(0, 2);
