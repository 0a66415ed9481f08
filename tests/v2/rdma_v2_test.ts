/**
 * `linux.resources.rdma` in the cgroup v2 guest (`deno task test:vm`), whose kernel has the
 * rdma cgroup controller but no RDMA device: the controller is enabled for a container's
 * cgroup, and a limit for a device the host lacks (the kernel answers ENODEV) is refused
 * naming the device, at start and on update, with nothing left half-made.
 */

import assert from "node:assert/strict";
import { ContainerError } from "../../mod.ts";
import {
  assertNothingLeft,
  busyboxConfig,
  cgroupDirsOf,
  testFactory,
  uniqueId,
} from "../support/fixture.ts";

const ROOT = "/sys/fs/cgroup";
const DEVICE = "cellnodev0";
const read = (file: string) => Deno.readTextFileSync(file).trim();

function requireRdmaV2(): void {
  const mounts = Deno.readTextFileSync("/proc/self/mountinfo").split("\n");
  const type = mounts.map((l) => l.split(" - ")).filter(([left]) => left?.split(" ")[4] === ROOT)
    .map(([, right]) => right.split(" ")[0]).pop();
  assert.equal(type, "cgroup2", `${ROOT} is not cgroup2: tests/v2/ runs in deno task test:vm`);
  assert.ok(
    read(`${ROOT}/cgroup.controllers`).split(" ").includes("rdma"),
    "the guest kernel has no rdma cgroup controller (CONFIG_CGROUP_RDMA)",
  );
}

/** A ConfigInvalid naming the missing device, from the kernel's ENODEV. */
function noDevice(e: unknown): boolean {
  assert.ok(e instanceof ContainerError, `${e}`);
  assert.equal(e.code, "ConfigInvalid", e.message);
  assert.match(
    e.message,
    new RegExp(`^linux\\.resources\\.rdma\\.${DEVICE}: this host has no RDMA device "${DEVICE}"`),
  );
  assert.equal(e.errnoName, "ENODEV");
  return true;
}

Deno.test("v2 rdma: the controller is enabled; a limit for a device the host lacks is refused by name, undone", async () => {
  requireRdmaV2();
  const factory = await testFactory();
  const id = uniqueId("rdma");
  const c = await factory.create(
    id,
    await busyboxConfig(["sleep", "60"], (s) => {
      s.linux!.resources!.rdma = { [DEVICE]: { hcaHandles: 2, hcaObjects: 100 } };
    }),
  );
  try {
    await assert.rejects(() => c.start({ stdin: "null" }), noDevice);
    assert.deepEqual(cgroupDirsOf(id), [], "the cgroup made for the start was removed");
    assert.equal(await c.status(), "created");
  } finally {
    await c.destroy();
  }
  assertNothingLeft(factory, id);
});

Deno.test("v2 rdma: update with a missing device is refused and the other limits stay", async () => {
  requireRdmaV2();
  const factory = await testFactory();
  const id = uniqueId("rdma-up");
  const c = await factory.create(
    id,
    await busyboxConfig(["sleep", "60"], (s) => (s.linux!.resources!.pids = { limit: 50 })),
  );
  const dir = `${ROOT}/cell/${id}`;
  try {
    await c.start({ stdin: "null" });
    assert.ok(read(`${dir}/cgroup.controllers`).split(" ").includes("rdma"), "rdma enabled");
    assert.equal(read(`${dir}/rdma.max`), "", "no RDMA device, no line");
    assert.deepEqual((await c.stats()).rdma, { limit: [], current: [] });
    await assert.rejects(
      () => c.update({ pids: { limit: 20 }, rdma: { [DEVICE]: { hcaObjects: 5 } } }),
      noDevice,
    );
    assert.equal(read(`${dir}/pids.max`), "50", "the pids limit written first was put back");
  } finally {
    await c.destroy();
  }
  assertNothingLeft(factory, id);
});
