/**
 * The time namespace and `linux.timeOffsets` (runtime-spec 1.3): a container's clocks run
 * ahead of the host's by the offsets (its /proc/uptime is CLOCK_BOOTTIME), an exec and the
 * hooks the child runs see the same namespace, a config may join one by path, and offsets
 * without a new namespace are refused. The init is made by a first child that unshares the
 * namespace and writes the offsets, so these tests also check that the init is still the
 * runtime's own child (pid 1 of its pid namespace, its exit status delivered).
 */

import assert from "node:assert/strict";
import { ContainerError } from "../../mod.ts";
import type { Spec, TimeOffsets } from "../../src/config/types.ts";
import { busyboxConfig, runIn, testFactory, uniqueId, withContainer } from "../support/fixture.ts";
import { script, withDir } from "../support/hook_scripts.ts";

const DAY = 86400;

/** The host's CLOCK_BOOTTIME in seconds, from its /proc/uptime. */
function hostUptime(): number {
  return Number(Deno.readTextFileSync("/proc/uptime").split(" ")[0]);
}

/** The first number of a /proc/uptime text read inside a container. */
function uptimeOf(text: string): number {
  const value = Number(text.trim().split(/\s+/)[0]);
  assert.ok(
    Number.isFinite(value) && value > 0,
    `not a /proc/uptime line: ${JSON.stringify(text)}`,
  );
  return value;
}

/** Asserts `inside` is the host's uptime (read just before and after) plus `offset` seconds. */
function assertAhead(inside: number, before: number, after: number, offset: number): void {
  const slack = 2; // /proc/uptime has 10 ms steps; the reads are not at the same instant
  assert.ok(
    inside - offset >= before - slack && inside - offset <= after + slack,
    `uptime inside ${inside} is not the host's (${before}..${after}) + ${offset}`,
  );
}

/** A busybox config with a new time namespace and these offsets. */
function withTime(args: string[], timeOffsets?: TimeOffsets): Promise<Spec> {
  return busyboxConfig(args, (s) => {
    s.linux!.namespaces!.push({ type: "time" });
    if (timeOffsets) s.linux!.timeOffsets = timeOffsets;
  });
}

Deno.test("time namespace: boottime +3 days moves the container's /proc/uptime, not the host's", async () => {
  const config = await withTime(["cat", "/proc/uptime"], {
    boottime: { secs: 3 * DAY, nanosecs: 0 },
  });
  await withContainer(config, async (box) => {
    const before = hostUptime();
    const out = await runIn(box);
    const after = hostUptime();
    assert.equal(out.code, 0, out.stderr);
    assertAhead(uptimeOf(out.stdout), before, after, 3 * DAY);
    assert.ok(after < before + 60, "the host's own uptime did not move");
  }, "timens");
  // Without the namespace the same command sees the host's clock.
  const plain = await busyboxConfig(["cat", "/proc/uptime"]);
  await withContainer(plain, async (box) => {
    const before = hostUptime();
    const out = await runIn(box);
    assertAhead(uptimeOf(out.stdout), before, hostUptime(), 0);
  }, "timens");
});

Deno.test("time namespace: both offsets in timens_offsets, an exec in the same namespace, the init ours", async () => {
  const config = await withTime(["sh", "-c", "echo $$; exec sleep 30"], {
    monotonic: { secs: 2 * DAY, nanosecs: 500 },
    boottime: { secs: 5 * DAY, nanosecs: 0 },
  });
  await withContainer(config, async (box) => {
    const init = await box.start({ stdin: "null", stdout: "piped", stderr: "piped" });
    const reader = init.stdout!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    reader.releaseLock();
    assert.equal(first.trim(), "1", "the cloned process is pid 1 of the new pid namespace");
    // Read from the host: the offsets of the namespace the init is in.
    const offsets = Deno.readTextFileSync(`/proc/${init.pid}/timens_offsets`);
    assert.match(offsets, /^monotonic\s+172800\s+500$/m, offsets);
    assert.match(offsets, /^boottime\s+432000\s+0$/m, offsets);
    const initNs = Deno.readLinkSync(`/proc/${init.pid}/ns/time`);
    assert.notEqual(initNs, Deno.readLinkSync("/proc/self/ns/time"), "not the host's namespace");

    const before = hostUptime();
    const exec = await runIn(box, {
      args: [
        "sh",
        "-c",
        "cat /proc/uptime; readlink /proc/self/ns/time; cat /proc/self/timens_offsets",
      ],
    });
    const after = hostUptime();
    assert.equal(exec.code, 0, exec.stderr);
    const [uptime, ns, ...seen] = exec.stdout.trim().split("\n");
    assertAhead(uptimeOf(uptime), before, after, 5 * DAY);
    assert.equal(ns, initNs, "the exec joined the init's time namespace");
    assert.match(seen.join("\n"), /^monotonic\s+172800\s+500$/m);

    // The init is the runtime's child: its end and status come back.
    await box.signal("SIGKILL");
    const status = await init.status;
    assert.equal(status.signal, "SIGKILL");
  }, "timens");
});

Deno.test("time namespace: an exit code comes back through the first child's clone", async () => {
  const config = await withTime(["sh", "-c", "exit 7"]);
  await withContainer(config, async (box) => {
    const out = await runIn(box);
    assert.equal(out.code, 7, out.stderr);
  }, "timens");
});

Deno.test("time namespace: a createContainer hook runs in it, a createRuntime hook on the host", async () => {
  await withDir(async (dir) => {
    const save = (name: string) => script(dir, name, `/bin/cat /proc/uptime > ${dir}/${name}.out`);
    const config = await withTime(["true"], { boottime: { secs: 2 * DAY, nanosecs: 0 } });
    config.hooks = {
      createRuntime: [{ path: save("runtime") }],
      createContainer: [{ path: save("container") }],
    };
    await withContainer(config, async (box) => {
      const before = hostUptime();
      const out = await runIn(box);
      const after = hostUptime();
      assert.equal(out.code, 0, out.stderr);
      const read = (name: string) => uptimeOf(Deno.readTextFileSync(`${dir}/${name}.out`));
      assertAhead(read("container"), before, after, 2 * DAY);
      assertAhead(read("runtime"), before, after, 0);
    }, "timens");
  });
});

Deno.test("time namespace: joined by path, the second container sees the first's clocks", async () => {
  const factory = await testFactory();
  const first = await withTime(["sleep", "30"], { boottime: { secs: 2 * DAY, nanosecs: 0 } });
  await using a = await factory.create(uniqueId("timens-a"), first);
  const initA = await a.start({ stdin: "null", stdout: "null", stderr: "null" });
  const path = `/proc/${initA.pid}/ns/time`;
  const second = await busyboxConfig(
    ["sh", "-c", "cat /proc/uptime; readlink /proc/self/ns/time"],
    (s) => {
      s.linux!.namespaces!.push({ type: "time", path });
    },
  );
  await using b = await factory.create(uniqueId("timens-b"), second);
  const before = hostUptime();
  const out = await runIn(b);
  const after = hostUptime();
  assert.equal(out.code, 0, out.stderr);
  const [uptime, ns] = out.stdout.trim().split("\n");
  assertAhead(uptimeOf(uptime), before, after, 2 * DAY);
  assert.equal(ns, Deno.readLinkSync(path));
});

Deno.test("time namespace: a path to a namespace of another type fails the start, naming it", async () => {
  const config = await busyboxConfig(["true"], (s) => {
    s.linux!.namespaces!.push({ type: "time", path: `/proc/${Deno.pid}/ns/net` });
  });
  await withContainer(config, async (box) => {
    await assert.rejects(
      () => runIn(box),
      (e) =>
        e instanceof ContainerError && e.message.includes("join the time namespace") &&
        e.message.includes("EINVAL"),
    );
  }, "timens");
});

Deno.test("time namespace: an offset the kernel refuses (a clock below zero) fails the start clearly", async () => {
  const config = await withTime(["true"], { boottime: { secs: -100 * 365 * DAY, nanosecs: 0 } });
  await withContainer(config, async (box) => {
    await assert.rejects(
      () => runIn(box),
      (e) =>
        e instanceof ContainerError && e.message.includes("make the time namespace") &&
        e.message.includes("ERANGE"),
    );
  }, "timens");
});

Deno.test("time namespace: with a new user namespace, offsets apply and an exec joins it", async () => {
  const config = await withTime(["sleep", "30"], { boottime: { secs: DAY, nanosecs: 0 } });
  config.linux!.namespaces!.push({ type: "user" });
  config.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  config.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  await withContainer(config, async (box) => {
    const init = await box.start({ stdin: "null", stdout: "null", stderr: "null" });
    assert.match(Deno.readTextFileSync(`/proc/${init.pid}/status`), /Uid:\s+100000\s/);
    const before = hostUptime();
    const exec = await runIn(box, { args: ["sh", "-c", "cat /proc/uptime; id -u"] });
    const after = hostUptime();
    assert.equal(exec.code, 0, exec.stderr);
    const [uptime, uid] = exec.stdout.trim().split("\n");
    assertAhead(uptimeOf(uptime), before, after, DAY);
    assert.equal(uid, "0");
  }, "timens");
});

Deno.test("time namespace: offsets without a new one are refused, naming the field", async () => {
  const factory = await testFactory();
  const refused = async (spec: Spec, fragment: string) => {
    const id = uniqueId("timens-bad");
    await assert.rejects(
      () => factory.create(id, spec),
      (e) =>
        e instanceof ContainerError && e.code === "ConfigInvalid" &&
        e.message.includes("linux.timeOffsets") && e.message.includes(fragment),
    );
  };
  await refused(
    await busyboxConfig(["true"], (s) => {
      s.linux!.timeOffsets = { boottime: { secs: DAY, nanosecs: 0 } };
    }),
    "requires a new time namespace",
  );
  await refused(
    await busyboxConfig(["true"], (s) => {
      s.linux!.namespaces!.push({ type: "time", path: "/proc/1/ns/time" });
      s.linux!.timeOffsets = { boottime: { secs: DAY, nanosecs: 0 } };
    }),
    "joined time namespace",
  );
  const realtime = await withTime(["true"]);
  (realtime.linux as Record<string, unknown>).timeOffsets = { realtime: { secs: 1 } };
  await refused(realtime, "unknown clock");
});
