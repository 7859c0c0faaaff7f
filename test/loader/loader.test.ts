/**
 * The TypeScript loader (tools/loader/): a new Node process runs a .ts file through it (types,
 * enums and parameter properties compiled away, class fields as tsconfig.json's target defines
 * them), stack traces name the .ts file and line, and plain JavaScript is loaded as it is.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";
import { nodeTs } from "../../tools/loader/node.ts";

const dir = mkdtempSync(join(tmpdir(), "loader-"));

it("runs TypeScript with its source lines in stack traces, JavaScript unchanged", () => {
  writeFileSync(join(dir, "plain.js"), "export const viaJs = (s) => s + '!';\n");
  writeFileSync(join(dir, "main.ts"), [
    `import { viaJs } from "./plain.js";`,
    `enum Kind { A = 1, B }`,
    `class Point { z = this.x + 1; constructor(readonly x: number) {} }`,
    `const p: Point = new Point(Kind.B);`,
    `console.log(viaJs(\`kind \${Kind.B} z \${p.z}\`));`,
    `console.log(new Error("here").stack!.split("\\n")[1].trim());`,
    "",
  ].join("\n"));
  const r = spawnSync(...nodeTs(join(dir, "main.ts")), { encoding: "utf8", timeout: 60_000 });
  expect(r.stderr).toBe("");
  const [first, second] = r.stdout.trim().split("\n");
  // [[Define]] class fields (ES2022): `z` is initialised before the parameter property `x` is set.
  expect(first).toBe("kind 2 z NaN!");
  expect(second).toMatch(new RegExp(`${join(dir, "main.ts").replace(/[/.]/g, "\\$&")}:6:13`));
});
