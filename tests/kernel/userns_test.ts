/**
 * User namespaces: who writes the id maps for which caller, the rootless config, and
 * exec into a container with its own user namespace (as root; tests/kernel/rootless_test.ts
 * covers a non-root caller on the real kernel).
 */

import assert from "node:assert/strict";
import { ContainerError, defaultConfig } from "../../mod.ts";
import { checkIdMappedMounts, findHelper, planIdMaps } from "../../src/userns/id_maps.ts";
import { toRootless } from "../../src/config/rootless_spec.ts";
import { busyboxConfig, runIn, testFactory, uniqueId } from "../support/fixture.ts";

const user = { uid: 1000, gid: 1000 };

function specWithMaps(uid: [number, number, number][], gid: [number, number, number][]) {
  const spec = toRootless(defaultConfig({ rootfs: "/" }), user);
  const map = (m: [number, number, number][]) =>
    m.map(([containerID, hostID, size]) => ({ containerID, hostID, size }));
  spec.linux!.uidMappings = map(uid);
  spec.linux!.gidMappings = map(gid);
  return spec;
}

Deno.test("id maps: root writes every map itself", () => {
  const plan = planIdMaps(specWithMaps([[0, 100000, 65536]], [[0, 100000, 65536]]), {
    uid: 0,
    gid: 0,
  });
  assert.deepEqual(plan.uid, { kind: "direct", content: "0 100000 65536\n" });
  assert.equal(plan.denySetgroups, false);
});

Deno.test("id-mapped mounts need the host's root: a user's are refused naming the mount", () => {
  const spec = specWithMaps([[0, 1000, 1]], [[0, 1000, 1]]);
  spec.mounts!.push({
    destination: "/data",
    type: "bind",
    source: "/srv",
    options: ["bind", "idmap"],
    uidMappings: [{ containerID: 0, hostID: 1000, size: 1 }],
    gidMappings: [{ containerID: 0, hostID: 1000, size: 1 }],
  });
  const index = spec.mounts!.length - 1;
  assert.throws(
    () => checkIdMappedMounts(spec, user),
    (e: unknown) =>
      e instanceof ContainerError && e.code === "ConfigInvalid" &&
      e.message.startsWith(`mounts[${index}]: an id-mapped mount needs the host's root`),
  );
  checkIdMappedMounts(spec, { uid: 0, gid: 0 });
});

Deno.test("id maps: a user maps their own ids directly and setgroups is denied", () => {
  const plan = planIdMaps(specWithMaps([[0, 1000, 1]], [[0, 1000, 1]]), user);
  assert.deepEqual(plan.uid, { kind: "direct", content: "0 1000 1\n" });
  assert.deepEqual(plan.gid, { kind: "direct", content: "0 1000 1\n" });
  assert.equal(plan.denySetgroups, true);
});

Deno.test("id maps: a user's ranges go through newuidmap/newgidmap", () => {
  assert.ok(findHelper("newuidmap"), "newuidmap is installed (Debian uidmap, tools/setup.sh)");
  const plan = planIdMaps(
    specWithMaps([[0, 1000, 1], [1, 300000, 65536]], [[0, 1000, 1], [1, 300000, 65536]]),
    user,
  );
  assert.deepEqual(plan.uid, {
    kind: "helper",
    helper: findHelper("newuidmap"),
    ranges: "0 1000 1 1 300000 65536",
  });
  assert.equal(plan.gid.kind, "helper");
  assert.equal(plan.denySetgroups, false);
});

Deno.test("id maps: supplementary groups with a denied setgroups are ConfigInvalid", () => {
  const spec = specWithMaps([[0, 1000, 1]], [[0, 1000, 1]]);
  spec.process!.user = { uid: 0, gid: 0, additionalGids: [5] };
  assert.throws(
    () => planIdMaps(spec, user),
    (e) =>
      e instanceof ContainerError && e.code === "ConfigInvalid" && /additionalGids/.test(e.message),
  );
});

Deno.test("rootless config: user namespace, no network namespace, /sys bound, no gid= options", () => {
  const spec = defaultConfig({ rootfs: "/r", rootless: true });
  const types = spec.linux!.namespaces!.map((n) => n.type);
  assert.ok(types.includes("user") && !types.includes("network"));
  assert.deepEqual(spec.linux!.uidMappings, [{ containerID: 0, hostID: Deno.uid(), size: 1 }]);
  assert.equal(spec.linux!.resources, undefined);
  const sys = spec.mounts!.find((m) => m.destination === "/sys");
  assert.deepEqual(sys, {
    destination: "/sys",
    type: "none",
    source: "/sys",
    options: ["rbind", "nosuid", "noexec", "nodev", "ro"],
  });
  assert.ok(!spec.mounts!.some((m) => m.options?.some((o) => o.startsWith("gid="))));
});

Deno.test("exec joins a container's own user namespace (as root)", async () => {
  const factory = await testFactory();
  const spec = await busyboxConfig(["sleep", "30"], (s) => {
    s.linux!.namespaces!.push({ type: "user" });
    s.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    s.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  });
  await using box = await factory.create(uniqueId("userns-exec"), spec);
  const init = await box.start({ stdin: "null", stdout: "null", stderr: "null" });
  const exec = await runIn(box, { args: ["sh", "-c", "id -u; cat /proc/self/uid_map"] });
  assert.equal(exec.code, 0, exec.stderr);
  const [uid, map] = exec.stdout.split("\n");
  assert.equal(uid, "0");
  assert.deepEqual(map.trim().split(/\s+/), ["0", "100000", "65536"]);
  const hostStatus = Deno.readTextFileSync(`/proc/${init.pid}/status`);
  assert.match(hostStatus, /Uid:\s+100000\s/, "root inside is 100000 outside");
  await box.destroy();
});

Deno.test("a container joins another's user and network namespaces by path, user first", async () => {
  const factory = await testFactory();
  const first = await busyboxConfig(["sleep", "30"], (s) => {
    s.linux!.namespaces!.push({ type: "user" });
    s.linux!.uidMappings = [{ containerID: 0, hostID: 200000, size: 65536 }];
    s.linux!.gidMappings = [{ containerID: 0, hostID: 200000, size: 65536 }];
  });
  await using a = await factory.create(uniqueId("userns-a"), first);
  const initA = await a.start({ stdin: "null", stdout: "null", stderr: "null" });
  const second = await busyboxConfig(["sleep", "30"], (s) => {
    s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== "network");
    s.linux!.namespaces!.push(
      { type: "user", path: `/proc/${initA.pid}/ns/user` },
      { type: "network", path: `/proc/${initA.pid}/ns/net` },
    );
  });
  await using b = await factory.create(uniqueId("userns-b"), second);
  const initB = await b.start({ stdin: "null", stdout: "null", stderr: "null" });
  const linkA = (ns: string) => Deno.readLinkSync(`/proc/${initA.pid}/ns/${ns}`);
  const linkB = (ns: string) => Deno.readLinkSync(`/proc/${initB.pid}/ns/${ns}`);
  assert.equal(linkB("user"), linkA("user"));
  assert.equal(linkB("net"), linkA("net"));
  assert.notEqual(
    linkB("mnt"),
    linkA("mnt"),
    "its own mount namespace, owned by the joined user ns",
  );
  const out = await runIn(b, { args: ["sh", "-c", "id -u; cat /proc/self/uid_map"] });
  const [uid, map] = out.stdout.split("\n");
  assert.equal(uid, "0", out.stderr);
  assert.deepEqual(map.trim().split(/\s+/), ["0", "200000", "65536"]);
});

Deno.test("bind sources the user namespace's root cannot reach are opened by the runtime (runc's mount fds)", async () => {
  // runc's userns.bats: sources below 0700 directories of the host's root, and of another
  // host user; the container's root (host uid 100000) may enter neither.
  const top = await Deno.makeTempDir({ prefix: "cell-userns-src-" });
  const sources = [`${top}/root-only`, `${top}/other-user`];
  for (const dir of sources) {
    Deno.mkdirSync(`${dir}/dir`, { recursive: true });
    Deno.writeTextFileSync(`${dir}/dir/foo.txt`, `${dir}\n`);
    Deno.chmodSync(dir, 0o700);
  }
  Deno.chownSync(sources[1], 4321, 4321);
  const factory = await testFactory();
  const id = uniqueId("userns-src");
  const config = await busyboxConfig(["sleep", "30"], (s) => {
    s.linux!.namespaces!.push({ type: "user" });
    s.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    s.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    s.mounts = s.mounts!.filter((m) => m.type !== "cgroup" && m.destination !== "/sys");
    s.mounts.push(
      { destination: "/tmp/m1", type: "bind", source: `${sources[0]}/dir`, options: ["bind"] },
      {
        destination: "/tmp/m2",
        type: "bind",
        source: `${sources[1]}/dir`,
        options: ["rbind", "ro"],
      },
    );
  });
  const box = await factory.create(id, config);
  try {
    await box.start({ stdin: "null", stdout: "null", stderr: "null" });
    // An exec joins the init's mount namespace: the binds are there.
    const out = await runIn(box, { args: ["cat", "/tmp/m1/foo.txt", "/tmp/m2/foo.txt"] });
    assert.equal(out.code, 0, out.stderr);
    assert.equal(out.stdout, `${sources[0]}\n${sources[1]}\n`);
  } finally {
    await box.destroy();
    Deno.removeSync(top, { recursive: true });
  }
});
