/**
 * `linux.resources.rdma` and `linux.intelRdt` on this host's kernel, which has neither an
 * rdma cgroup controller (CONFIG_CGROUP_RDMA is not set) nor resctrl (no
 * CONFIG_X86_CPU_RESCTRL): both must be refused by name, before anything is made, through
 * the library and the CLI. The rdma limits themselves are shown in the cgroup v2 guest
 * (tests/v2/rdma_v2_test.ts), the resctrl plans in tests/unit/resctrl_test.ts; the undo of
 * a refused resctrl step, and the record kept while a group cannot be removed, are shown on a
 * plain directory standing for the mount.
 */

import assert from "node:assert/strict";
import { ContainerError, type Spec } from "../../mod.ts";
import { hostHasRdmaController } from "../../src/cgroups/rdma.ts";
import { applyResctrl, removeResctrl } from "../../src/resctrl/mod.ts";
import { resctrlMount } from "../../src/resctrl/mount.ts";
import { planResctrl } from "../../src/resctrl/plan.ts";
import { destroyLeftovers } from "../../src/container/leftovers.ts";
import { StateStore } from "../../src/state/store.ts";
import { bundle, cell, stateRoot } from "../support/cli.ts";
import {
  assertNothingLeft,
  busyboxConfig,
  exists,
  testFactory,
  uniqueId,
  withTempDir,
} from "../support/fixture.ts";

/** Creates a container from the edited config and expects ConfigInvalid matching `message`. */
async function refusedAtCreate(edit: (s: Spec) => void, message: RegExp): Promise<void> {
  const factory = await testFactory();
  const id = uniqueId("rdt");
  await assert.rejects(
    async () => factory.create(id, await busyboxConfig(["true"], edit)),
    (e: unknown) => {
      assert.ok(e instanceof ContainerError, `${e}`);
      assert.equal(e.code, "ConfigInvalid", e.message);
      assert.match(e.message, message);
      return true;
    },
  );
  assertNothingLeft(factory, id);
}

Deno.test("rdma limits on a host without the rdma cgroup controller: refused by name, nothing made", async () => {
  assert.equal(
    hostHasRdmaController(),
    false,
    "this test expects a kernel without CONFIG_CGROUP_RDMA (the v2 guest shows the limits)",
  );
  const rdma = { mlx5_0: { hcaHandles: 2, hcaObjects: 100 } };
  await refusedAtCreate(
    (s) => (s.linux!.resources!.rdma = rdma),
    /^linux\.resources\.rdma: this host lacks the rdma cgroup controller .*CONFIG_CGROUP_RDMA/,
  );
  // update of a running container: refused the same way, the other limits untouched.
  const factory = await testFactory();
  const id = uniqueId("rdma-up");
  const c = await factory.create(
    id,
    await busyboxConfig(["sleep", "60"], (s) => (s.linux!.resources!.pids = { limit: 50 })),
  );
  try {
    await c.start({ stdin: "null" });
    await assert.rejects(
      () => c.update({ pids: { limit: 20 }, rdma }),
      (e: unknown) => e instanceof ContainerError && /rdma/.test(e.message),
    );
    assert.equal(
      Deno.readTextFileSync(`/sys/fs/cgroup/pids/cell/${id}/pids.max`).trim(),
      "50",
      "a refused update changes nothing",
    );
  } finally {
    await c.destroy();
  }
  assertNothingLeft(factory, id);
});

Deno.test("intelRdt on a host without resctrl: refused as not mounted, nothing made (library and CLI)", async () => {
  assert.equal(
    resctrlMount(),
    undefined,
    "this test expects a host without resctrl mounted (no Intel RDT / AMD PQoS here)",
  );
  const configs = [
    {},
    { closID: "gold", l3CacheSchema: "L3:0=f" },
    { enableMonitoring: true },
  ];
  for (const rdt of configs) {
    await refusedAtCreate(
      (s) => (s.linux!.intelRdt = rdt),
      /^linux\.intelRdt: resctrl is not mounted on this host; .*resctrl/,
    );
  }
  // The CLI says the same and exits non-zero; no state, no cgroup, no resctrl directory.
  const root = await stateRoot();
  const dir = await bundle(["true"], (s) => (s.linux!.intelRdt = { memBwSchema: "MB:0=50" }));
  const id = uniqueId("rdt-cli");
  const run = await cell(root, ["run", "--bundle", dir, id]);
  assert.notEqual(run.code, 0, run.stderr);
  assert.match(run.stderr, /linux\.intelRdt: resctrl is not mounted on this host/);
  assert.deepEqual([...Deno.readDirSync(root)], [], "no container left in the CLI's state");
  assertNothingLeft(await testFactory(), id);
});

Deno.test("cell features: intelRdt and cgroup.rdma say what cell implements, not what this host has; no unsafe annotations", async () => {
  const features = JSON.parse((await cell(await stateRoot(), ["features"])).stdout);
  // features-linux.md: support by the runtime, "irrelevant to the availability" on the host,
  // which here has neither resctrl nor the rdma controller (both refused at create, above).
  assert.deepEqual(features.linux.intelRdt, { enabled: true, schemata: true, monitoring: true });
  assert.equal(features.linux.cgroup.rdma, true);
  assert.ok(features.linux.namespaces.includes("time"));
  assert.deepEqual(features.potentiallyUnsafeConfigAnnotations, []);
});

Deno.test("resctrl apply: a refused schemata write removes the group it made; removal stays below the mount", () => {
  withTempDir("cell-resctrl-apply-", (mount) => {
    // A directory stands for the mount: mkdir works, but no kernel makes the group's
    // schemata file, so the write fails as a refused one would.
    const plan = planResctrl({ memBwSchema: "MB:0=50" }, {
      id: "web",
      mount,
      view: { exists: (p) => p === `${mount}/info/MB`, read: () => undefined },
    });
    assert.throws(
      () => applyResctrl(plan, mount),
      (e: unknown) =>
        e instanceof ContainerError &&
        e.message.startsWith(`linux.intelRdt: cannot write "MB:0=50" to ${mount}/web/schemata`),
    );
    assert.equal(exists(`${mount}/web`), false, "the group made for it was removed");
    // A recorded path that is not below this host's resctrl mount (none here) is never removed.
    Deno.mkdirSync(`${mount}/other`);
    assert.deepEqual(removeResctrl([`${mount}/other`]), []);
    assert.equal(exists(`${mount}/other`), true);
  });
});

Deno.test("destroy of an unreadable state keeps it while a resctrl group cannot be removed, as destroy does", async () => {
  const mount = Deno.makeTempDirSync({ prefix: "cell-resctrl-left-" });
  const root = Deno.makeTempDirSync({ prefix: "cell-state-left-" });
  try {
    const id = uniqueId("rdt-left");
    const store = new StateStore(root);
    Deno.mkdirSync(`${root}/${id}`);
    Deno.writeTextFileSync(store.file(id), "{"); // damaged: only `known` says what it had
    // A group with a file in it refuses rmdir (ENOTEMPTY), as one with a task left does (EBUSY).
    const group = `${mount}/${id}`;
    Deno.mkdirSync(group);
    Deno.writeTextFileSync(`${group}/left`, "");
    const known = { resctrl: { remove: [group], tasks: [`${group}/tasks`] } };
    const options = { resctrl: { mount } };
    await assert.rejects(
      () => destroyLeftovers(store, id, known, options),
      (e: unknown) =>
        e instanceof ContainerError && e.code === "SystemError" && e.path === group &&
        e.message.includes(`cannot remove the resctrl group ${group}`),
    );
    assert.equal(exists(store.file(id)), true, "the record survives for a later destroy");
    Deno.removeSync(`${group}/left`);
    await destroyLeftovers(store, id, known, options);
    assert.equal(exists(group), false);
    assert.equal(exists(`${root}/${id}`), false);
  } finally {
    Deno.removeSync(mount, { recursive: true });
    Deno.removeSync(root, { recursive: true });
  }
});
