/** WebAssembly core spec suite on the hosted target, second half (see suite.ts). */
import { specShard } from "./suite.ts";
specShard(1, 2);
