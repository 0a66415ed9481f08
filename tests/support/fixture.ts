/**
 * Shared test fixtures: a busybox rootfs, a factory on a private state root, configs,
 * and checks that a container left nothing behind on the host.
 *
 * @module
 */

import assert from "node:assert/strict";
import { createFactory, defaultConfig, type Factory, type Spec } from "../../mod.ts";
import type { Container, ProcessOptions } from "../../mod.ts";
import { busyboxRootfs } from "./rootfs.ts";

/** Where the shared test rootfs lives (built once, reused). */
export const ROOTFS_DIR = "/tmp/cell-test-rootfs";

/** The busybox rootfs, built on first use. */
export function rootfs(): Promise<string> {
  return busyboxRootfs(ROOTFS_DIR);
}

const stateRoots: string[] = [];
globalThis.addEventListener("unload", () => {
  for (const root of stateRoots) {
    try {
      Deno.removeSync(root, { recursive: true });
    } catch { /* already gone */ }
  }
});

/** A factory on a fresh temporary state root, removed when the test process ends. */
export async function testFactory(): Promise<Factory> {
  const root = await Deno.makeTempDir({ prefix: "cell-state-" });
  stateRoots.push(root);
  return createFactory({ root });
}

let counter = 0;
/** A unique container id for a test. */
export function uniqueId(prefix = "t"): string {
  return `${prefix}-${Deno.pid}-${++counter}`;
}

/** runc-spec-like config on the busybox rootfs; `edit` may change it in place. */
export async function busyboxConfig(args: string[], edit?: (spec: Spec) => void): Promise<Spec> {
  const spec = defaultConfig({ rootfs: await rootfs(), args });
  edit?.(spec);
  return spec;
}

/** Starts a process with piped stdout/stderr and returns its output and exit. */
export async function runIn(
  container: Container,
  options: ProcessOptions = {},
): Promise<{ stdout: string; stderr: string; code: number | null; signal: string | null }> {
  const proc = await container.start({
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    ...options,
  });
  const out = await proc.output();
  const text = new TextDecoder();
  return {
    stdout: text.decode(out.stdout),
    stderr: text.decode(out.stderr),
    code: out.code,
    signal: out.signal,
  };
}

/** Every cgroup directory on the host whose path contains `id`. */
export function cgroupDirsOf(id: string): string[] {
  const found: string[] = [];
  const walk = (dir: string, depth: number) => {
    if (depth > 4) return;
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(dir)];
    } catch {
      return;
    }
    for (const e of entries) {
      if (!e.isDirectory) continue;
      const path = `${dir}/${e.name}`;
      if (e.name === id) found.push(path);
      walk(path, depth + 1);
    }
  };
  walk("/sys/fs/cgroup", 0);
  return found;
}

/** Asserts no process, cgroup, state or mount of the container is left on the host. */
export function assertNothingLeft(factory: Factory, id: string, pids: number[] = []): void {
  assert.deepEqual(cgroupDirsOf(id), [], `cgroups of ${id} left behind`);
  let stateLeft = true;
  try {
    Deno.statSync(`${factory.root}/${id}`);
  } catch {
    stateLeft = false;
  }
  assert.equal(stateLeft, false, `state directory of ${id} left behind`);
  for (const pid of pids) {
    let alive = false;
    try {
      const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
      alive = !/\) [ZX] /.test(stat);
    } catch { /* gone */ }
    assert.equal(alive, false, `process ${pid} of ${id} is still alive`);
  }
  const mounts = Deno.readTextFileSync("/proc/self/mountinfo");
  assert.equal(mounts.includes(id), false, `a mount naming ${id} is left in the host`);
}

/**
 * Creates a container from `config` on a fresh factory, runs `check` on it, then destroys
 * it, checks nothing of it is left on the host and removes the state root.
 */
export async function withContainer(
  config: Spec,
  check: (box: Container, factory: Factory, id: string) => unknown,
  prefix = "t",
): Promise<void> {
  const factory = await testFactory();
  const id = uniqueId(prefix);
  const box = await factory.create(id, config);
  try {
    await check(box, factory, id);
  } finally {
    await box.destroy();
    assertNothingLeft(factory, id);
    await Deno.remove(factory.root, { recursive: true }).catch(() => {});
  }
}

/** Runs `body` on a fresh temporary directory, removed afterwards. */
export function withTempDir(prefix: string, body: (dir: string) => void): void {
  const dir = Deno.makeTempDirSync({ prefix });
  try {
    body(dir);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

/** Open fds of this Deno process (for leak checks). */
export function openFds(): number {
  return [...Deno.readDirSync("/proc/self/fd")].length;
}

/** Whether a path exists (without following a final symlink). */
export function exists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Polls `check` every 10 ms until it holds; throws naming `what` after `ms`. */
export async function until(
  what: string,
  check: () => boolean | Promise<boolean>,
  ms = 10000,
): Promise<void> {
  const deadline = performance.now() + ms;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
