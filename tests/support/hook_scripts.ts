/**
 * Hook scripts for the hook tests: a state for their stdin, a temp dir per test, small
 * `#!/bin/sh` scripts, and reading back what they wrote.
 *
 * @module
 */

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { ContainerError } from "../../src/errors.ts";
import type { HookState } from "../../src/hooks/run.ts";

/** The state the hooks read on stdin. */
export const STATE: HookState = {
  ociVersion: "1.2.0",
  id: "hooked",
  status: "created",
  pid: 4242,
  bundle: "/srv/bundles/hooked",
  annotations: { "org.example": "yes" },
};

/** A temp dir for one test's scripts and outputs, removed afterwards. */
export async function withDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "cell-hooks-" });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * Writes an executable `#!/bin/sh` script as `<dir>/bin/<name>`, apart from the files the
 * scripts write. No PATH is set for hooks: use absolute paths.
 */
export function script(dir: string, name: string, body: string): string {
  Deno.mkdirSync(`${dir}/bin`, { recursive: true });
  const path = `${dir}/bin/${name}`;
  Deno.writeTextFileSync(path, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return path;
}

/** The lines of a file, without the last empty one. */
export function lines(path: string): string[] {
  return readFileSync(path, "utf8").split("\n").filter((line, i, all) =>
    line !== "" || i < all.length - 1
  );
}

/** The ContainerError `promise` rejects with. */
export async function rejection(promise: Promise<unknown>): Promise<ContainerError> {
  try {
    await promise;
  } catch (e) {
    assert.ok(e instanceof ContainerError, `expected ContainerError, got ${e}`);
    return e;
  }
  assert.fail("expected a rejection");
}
