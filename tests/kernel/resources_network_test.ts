/**
 * `linux.resources.memory.kernelTCP` and `linux.resources.network` (net_cls, net_prio) on
 * cgroup v1, and their refusal where the host cannot apply them.
 */

import assert from "node:assert/strict";
import { ContainerError } from "../../mod.ts";
import { planV1 } from "../../src/cgroups/resources_v1.ts";
import { planV2 } from "../../src/cgroups/resources_v2.ts";
import { mountV1, unmountV1 } from "../../tools/hybrid_host.ts";
import { bundle, cell } from "../support/cli.ts";
import { assertNothingLeft, busyboxConfig, testFactory, uniqueId } from "../support/fixture.ts";

const MiB = 1024 * 1024;

function isConfigInvalid(field: string) {
  return (e: unknown) =>
    e instanceof ContainerError && e.code === "ConfigInvalid" && e.message.includes(field);
}

Deno.test("kernelTCP limits the container's TCP buffer memory (memory.kmem.tcp) on v1", async () => {
  const factory = await testFactory();
  const id = uniqueId("ktcp");
  const dir = `/sys/fs/cgroup/memory/cell/${id}`;
  const c = await factory.create(
    id,
    await busyboxConfig(["sleep", "60"], (s) => {
      s.linux!.resources!.memory = { limit: 64 * MiB, kernelTCP: 16 * MiB };
    }),
  );
  try {
    await c.start({ stdin: "null" });
    const file = `${dir}/memory.kmem.tcp.limit_in_bytes`;
    assert.equal(Deno.readTextFileSync(file).trim(), String(16 * MiB));
    await c.update({ memory: { kernelTCP: 8 * MiB } });
    assert.equal(Deno.readTextFileSync(file).trim(), String(8 * MiB));
    assert.equal(c.config.linux?.resources?.memory?.kernelTCP, 16 * MiB, "the handle's config");
    const loaded = await factory.load(id);
    assert.equal(loaded.config.linux?.resources?.memory?.kernelTCP, 8 * MiB, "stored");
  } finally {
    await c.destroy();
  }
  assertNothingLeft(factory, id);
});

Deno.test("kernelTCP, network and kernel are refused where the host cannot apply them", () => {
  const paths = { memory: "/nonexistent/memory", cpu: "/nonexistent/cpu" };
  // A memory hierarchy without the kmem.tcp file (a kernel built without it).
  assert.throws(() => planV1({ memory: { kernelTCP: MiB } }, paths), isConfigInvalid("kernelTCP"));
  assert.throws(
    () => planV1({ network: { classID: 0x100001 } }, paths),
    isConfigInvalid("linux.resources.network.classID: no net_cls cgroup hierarchy is mounted"),
  );
  assert.throws(
    () => planV1({ network: { priorities: [{ name: "lo", priority: 1 }] } }, paths),
    isConfigInvalid("linux.resources.network.priorities: no net_prio cgroup hierarchy"),
  );
  assert.throws(() => planV2({ memory: { kernelTCP: MiB } }, "/x"), isConfigInvalid("kernelTCP"));
  assert.throws(() => planV2({ network: { classID: 1 } }, "/x"), isConfigInvalid("network"));
});

Deno.test("kernel memory stays refused as deprecated; a bad network section names its field", async () => {
  const factory = await testFactory();
  const create = async (edit: (r: Record<string, unknown>) => void) =>
    await factory.create(
      uniqueId("netbad"),
      await busyboxConfig(["true"], (s) => edit(s.linux!.resources! as Record<string, unknown>)),
    );
  await assert.rejects(
    () => create((r) => (r.memory = { kernel: MiB })),
    isConfigInvalid("linux.resources.memory.kernel"),
  );
  await assert.rejects(
    () => create((r) => (r.network = { classID: -1 })),
    isConfigInvalid("linux.resources.network.classID"),
  );
  await assert.rejects(
    () => create((r) => (r.network = { priorities: [{ name: "a/b", priority: 1 }] })),
    isConfigInvalid("linux.resources.network.priorities[0].name"),
  );
});

/** Mounts a v1 hierarchy of `controller` at a temporary directory; returns it. */
async function mountHierarchy(controller: string): Promise<string> {
  const target = Deno.makeTempDirSync({ prefix: `cell-${controller}-` });
  try {
    await mountV1(controller, target);
  } catch (e) {
    Deno.removeSync(target);
    throw e;
  }
  return target;
}

/** Unmounts it and waits until the hierarchy is gone (a dying child can keep it). */
async function unmountHierarchy(controller: string, target: string): Promise<void> {
  await unmountV1(controller, target);
  Deno.removeSync(target);
}

Deno.test("network: net_cls.classid and net_prio.ifpriomap where those hierarchies are mounted", async () => {
  // Not mounted on a fresh machine: mount them here (the CLI, a fresh process, reads the
  // host's hierarchies anew) and take them away after.
  const netCls = await mountHierarchy("net_cls");
  let netPrio: string | undefined;
  const root = await Deno.makeTempDir({ prefix: "cell-net-state-" });
  const id = `net-${Deno.pid}`;
  try {
    netPrio = await mountHierarchy("net_prio");
    const dir = await bundle(["sleep", "60"], (s) => {
      s.linux!.resources!.network = {
        classID: 0x100001,
        priorities: [{ name: "lo", priority: 5 }],
      };
    });
    const run = await cell(root, ["run", "-d", "--bundle", dir, id], { detached: true });
    assert.equal(run.code, 0);
    assert.equal(Deno.readTextFileSync(`${netCls}/cell/${id}/net_cls.classid`).trim(), "1048577");
    const map = Deno.readTextFileSync(`${netPrio}/cell/${id}/net_prio.ifpriomap`);
    assert.ok(map.split("\n").includes("lo 5"), map);
    const update = await cell(root, ["update", "--resources", "-", id], {
      stdin: JSON.stringify({ network: { classID: 0x100002 } }),
    });
    assert.equal(update.code, 0, update.stderr);
    assert.equal(Deno.readTextFileSync(`${netCls}/cell/${id}/net_cls.classid`).trim(), "1048578");
  } finally {
    await cell(root, ["delete", "--force", id]);
    await Deno.remove(root, { recursive: true });
    assert.equal(
      [netCls, netPrio].some((m) => {
        try {
          return m !== undefined && Deno.statSync(`${m}/cell/${id}`).isDirectory;
        } catch {
          return false;
        }
      }),
      false,
      "cgroups left",
    );
    if (netPrio) await unmountHierarchy("net_prio", netPrio);
    await unmountHierarchy("net_cls", netCls);
  }
});
