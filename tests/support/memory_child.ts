/**
 * Starts containers with tiny memory limits in a process of its own, so that a runtime
 * killed with them (the memory cgroup's OOM killer kills every process sharing the
 * victim's memory) shows as this process's death, not the test runner's. Prints one JSON
 * line per container: how its start and its process ended.
 *
 * usage: deno run -A memory_child.ts <rootfs> init <limit-bytes>...
 *        deno run -A memory_child.ts <rootfs> exec <slack-bytes>...
 *
 * @module
 */

import { ContainerError, createFactory, defaultConfig, type Spec } from "../../mod.ts";

const [rootfs, mode, ...limits] = Deno.args;
const root = await Deno.makeTempDir({ prefix: "cell-memory-" });
const factory = createFactory({ root });

function config(limit: number, args: string[]): Spec {
  const spec = defaultConfig({ rootfs, args });
  spec.linux!.resources = { ...spec.linux!.resources, memory: { limit } };
  return spec;
}

async function outcome(run: () => Promise<{ status: Promise<unknown> }>): Promise<unknown> {
  try {
    const proc = await run();
    return { started: true, status: await proc.status };
  } catch (e) {
    if (e instanceof ContainerError) return { started: false, code: e.code, message: e.message };
    throw e;
  }
}

try {
  for (const [i, text] of limits.entries()) {
    const limit = Number(text);
    const id = `mem-${Deno.pid}-${i}`;
    if (mode === "init") {
      const box = await factory.create(id, config(limit, ["true"]));
      const result = await outcome(() => box.start({ stdin: "null" }));
      await box.destroy();
      console.log(JSON.stringify({ id, limit, result }));
    } else {
      // The init runs under a roomy limit, which then shrinks to just above what the
      // container uses: every exec then waits in a cgroup about to OOM.
      const box = await factory.create(id, config(64 << 20, ["sleep", "60"]));
      await box.start({ stdin: "null" });
      const used = (await box.stats()).memory.usageBytes;
      await box.update({ memory: { limit: used + limit } });
      const execs: unknown[] = [];
      for (let n = 0; n < 5; n++) {
        execs.push(
          await outcome(() => box.start({ args: ["true", "x".repeat(100_000)], stdin: "null" })),
        );
      }
      await box.destroy();
      console.log(JSON.stringify({ id, limit, execs }));
    }
  }
} finally {
  await Deno.remove(root, { recursive: true });
}
console.log(JSON.stringify({ alive: true }));
