/**
 * The CLI is built on the package's exports only: every module under src/cli/ imports
 * other src/cli/ modules, `mod.ts`, the `./oci` subpath entry (`oci.ts`) or `node:`
 * builtins, never the library's internals. Read from the module graph `deno info --json
 * cli.ts` reports, so a new deep import anywhere in the CLI fails here. Needs no root.
 */

import assert from "node:assert/strict";
import { type GraphModule, moduleGraph, relative, ROOT } from "../support/module_graph.ts";

const CLI_DIR = new URL("src/cli/", ROOT).href;
const ENTRIES = new Set([new URL("mod.ts", ROOT).href, new URL("oci.ts", ROOT).href]);

/** Each (importer, imported) edge whose importer is under src/cli/. */
function cliEdges(modules: GraphModule[]): [string, string][] {
  const edges: [string, string][] = [];
  for (const module of modules) {
    if (!module.specifier.startsWith(CLI_DIR)) continue;
    for (const dep of module.dependencies ?? []) {
      for (const target of [dep.code?.specifier, dep.type?.specifier]) {
        if (target) edges.push([module.specifier, target]);
      }
    }
  }
  return edges;
}

function allowed(target: string): boolean {
  return target.startsWith(CLI_DIR) || ENTRIES.has(target) || target.startsWith("node:");
}

Deno.test("src/cli/ imports only src/cli/, mod.ts, oci.ts and node: builtins", async () => {
  const modules = await moduleGraph("cli.ts");
  // (lib/manifest.json exists only in a packaged tree: only the CLI's own modules count.)
  const broken = modules.filter((m) => m.error && m.specifier.startsWith(CLI_DIR))
    .map((m) => `${m.specifier}: ${m.error}`);
  assert.deepEqual(broken, [], "the CLI's graph has unresolved modules");
  const edges = cliEdges(modules);
  const cliModules = new Set(edges.map(([from]) => from));
  // The walk must have reached the CLI: main.ts and every command module.
  assert.ok(cliModules.has(`${CLI_DIR}main.ts`), [...cliModules].join("\n"));
  assert.ok(
    cliModules.has(`${CLI_DIR}commands/lifecycle.ts`) && cliModules.size >= 15,
    `only ${cliModules.size} CLI modules in the graph: ${[...cliModules].join(" ")}`,
  );
  const deep = edges.filter(([, to]) => !allowed(to))
    .map(([from, to]) => `${relative(from)} -> ${relative(to)}`);
  assert.deepEqual(deep, [], "CLI modules that reach past the package's exports");
  // Both entries are used, so the allow-list is not wider than needed.
  const used = new Set(edges.map(([, to]) => to).filter((to) => ENTRIES.has(to)));
  assert.deepEqual([...used].map(relative).sort(), ["mod.ts", "oci.ts"]);
});

Deno.test("oci.ts is a documented subpath export and in the publish set", async () => {
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
  assert.equal(config.exports["./oci"], "./oci.ts");
  assert.ok(config.publish.include.includes("oci.ts"), config.publish.include.join(" "));
});
