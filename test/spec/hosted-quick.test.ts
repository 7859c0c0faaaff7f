/** The whole WebAssembly core spec suite on the hosted target through the quick tier
 *  (tools/translate/quick/; the functions it refuses through the optimising one). */
import { specShard } from "./suite.ts";
specShard(0, 1, "quick");
