/**
 * cgroup v2 (the qemu guest): a start makes the cgroup before the clone (the child is cloned
 * straight into it), unlike v1 where it is made while the child is cloned. A library process
 * SIGKILLed at each step of start and destroy must leave a state from which another process's
 * `Factory.destroy(id)` removes the init, the cgroup and the state.
 */

import assert from "node:assert/strict";
import { ContainerError, createFactory, type Status } from "../../mod.ts";
import { busyboxConfig, cgroupDirsOf } from "../support/fixture.ts";

const DRIVER = new URL("../support/fault_driver.ts", import.meta.url).pathname;

/** Live (non-zombie) processes running `sleep <marker>`. */
function sleepers(marker: string): number[] {
  const found: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const argv = Deno.readTextFileSync(`/proc/${entry.name}/cmdline`).split("\0");
      const stat = Deno.readTextFileSync(`/proc/${entry.name}/stat`);
      if (!/\) [ZX] /.test(stat) && argv[0] === "sleep" && argv[1] === marker) {
        found.push(Number(entry.name));
      }
    } catch { /* gone */ }
  }
  return found;
}

const CASES: { op: "start" | "destroy"; step: string; seen: Status | "gone" }[] = [
  { op: "start", step: "start:intent", seen: "stopped" },
  { op: "start", step: "start:cgroup", seen: "stopped" },
  { op: "start", step: "start:spawned", seen: "stopped" },
  { op: "start", step: "start:recorded", seen: "running" },
  { op: "destroy", step: "destroy:killed", seen: "stopped" },
  { op: "destroy", step: "destroy:cgroups", seen: "stopped" },
];

Deno.test("v2: a library killed at each step of start and destroy leaves nothing another destroy() misses", async (t) => {
  let n = 0;
  for (const { op, step, seen } of CASES) {
    await t.step(step, async () => {
      const marker = `8${Deno.pid}${++n}`;
      const root = await Deno.makeTempDir({ prefix: "cell-fault-v2-" });
      const configFile = `${root}.json`;
      Deno.writeTextFileSync(configFile, JSON.stringify(await busyboxConfig(["sleep", marker])));
      const id = `fault-v2-${marker}`;
      const factory = createFactory({ root });
      try {
        if (op === "destroy") {
          await (await factory.create(id, JSON.parse(Deno.readTextFileSync(configFile)))).start({
            stdin: "null",
          });
        }
        const out = await new Deno.Command(Deno.execPath(), {
          args: ["run", "-A", "--no-check", DRIVER, root, id, op, configFile, marker],
          env: { CELL_FAULT: step },
          stdin: "null",
          stdout: "null",
          stderr: "piped",
        }).output();
        assert.equal(
          out.signal,
          "SIGKILL",
          `not killed at ${step}: ${new TextDecoder().decode(out.stderr)}`,
        );
        const status = await factory.load(id).then((c) => c.status(), (e) => {
          if (e instanceof ContainerError && e.code === "ContainerNotFound") return "gone";
          throw e;
        });
        assert.equal(status, seen, `status seen after a kill at ${step}`);
        await factory.destroy(id);
        for (let i = 0; i < 100 && sleepers(marker).length > 0; i++) {
          await new Promise((r) => setTimeout(r, 20));
        }
        assert.deepEqual(sleepers(marker), [], "no process left");
        assert.deepEqual(cgroupDirsOf(id), [], "no cgroup left");
        assert.deepEqual([...Deno.readDirSync(root)].map((e) => e.name), [], "no state left");
      } finally {
        await factory.destroy(id).catch(() => {});
        Deno.removeSync(root, { recursive: true });
        Deno.removeSync(configFile);
      }
    });
  }
});
