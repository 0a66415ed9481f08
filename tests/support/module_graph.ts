/**
 * The module graph of an entry as `deno info --json` reports it, for tests that hold
 * which modules may import which.
 */

import assert from "node:assert/strict";

/** The repository root. */
export const ROOT: URL = new URL("../../", import.meta.url);

/** One import of a module. */
export interface Dependency {
  /** As written. */
  specifier: string;
  /** The code it resolves to. */
  code?: { specifier?: string };
  /** The types it resolves to. */
  type?: { specifier?: string };
}

/** One module of the graph. */
export interface GraphModule {
  /** Its URL. */
  specifier: string;
  /** What it imports. */
  dependencies?: Dependency[];
  /** Why it could not be loaded. */
  error?: string;
}

/** Every module `entry` (a path from the root) reaches, itself included. */
export async function moduleGraph(entry: string): Promise<GraphModule[]> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", entry],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(60_000),
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.ok(out.success, `deno info --json ${entry} failed: ${stderr}`);
  return JSON.parse(new TextDecoder().decode(out.stdout)).modules;
}

/** A URL of the repository as a path from its root. */
export function relative(url: string): string {
  return url.startsWith(ROOT.href) ? url.slice(ROOT.href.length) : url;
}
