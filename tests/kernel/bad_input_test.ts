/**
 * Bad input: every mistake a caller can make gets a ContainerError with the right code
 * and a message a person can act on, and leaves nothing behind on the host (no state
 * directory under the factory root, no cgroup directory, no process, no mount).
 *
 * @module
 */

import assert from "node:assert/strict";
import { type Container, ContainerError, type ErrorCode, type Factory } from "../../mod.ts";
import {
  assertNothingLeft,
  busyboxConfig,
  cgroupDirsOf,
  exists,
  rootfs,
  runIn,
  testFactory,
  uniqueId,
  withContainer,
} from "../support/fixture.ts";

/**
 * Runs `fn` and returns the ContainerError it throws or rejects with, after checking its
 * code and that its message matches every pattern. A synchronous throw is accepted here
 * (a separate test holds promise-returning methods to rejecting).
 */
async function expectError(
  fn: () => unknown,
  code: ErrorCode,
  ...patterns: (string | RegExp)[]
): Promise<ContainerError> {
  let error: unknown;
  try {
    await fn();
  } catch (e) {
    error = e;
  }
  assert.ok(error !== undefined, `expected a ContainerError ${code}, but nothing was thrown`);
  assert.ok(error instanceof ContainerError, `expected a ContainerError, got ${error}`);
  assert.equal(error.code, code, `wrong code for: ${error.message}`);
  assert.equal(error.name, "ContainerError");
  for (const p of patterns) {
    if (typeof p === "string") {
      assert.ok(error.message.includes(p), `message ${JSON.stringify(error.message)} lacks ${p}`);
    } else {
      assert.match(error.message, p);
    }
  }
  return error;
}

/** Names under the factory's state root ([] when the root does not exist). */
function stateEntries(factory: Factory): string[] {
  try {
    return [...Deno.readDirSync(factory.root)].map((e) => e.name).sort();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
}

/** Asserts a failed create left no state and no cgroup behind. */
function assertCreateLeftNothing(factory: Factory, id: string): void {
  assert.deepEqual(stateEntries(factory), [], `state left under ${factory.root}`);
  assert.deepEqual(cgroupDirsOf(id), [], `cgroups of ${id} left behind`);
}

/** Removes a factory's temporary state root. */
async function removeRoot(factory: Factory): Promise<void> {
  await Deno.remove(factory.root, { recursive: true }).catch(() => {});
}

// ---------------------------------------------------------------------------------------
// Invalid ids

const BAD_IDS: [string, string][] = [
  ["../x", "path traversal"],
  ["", "empty"],
  ["a".repeat(129), "129 characters"],
  [".hidden", "leading dot"],
  ["-x", "leading dash"],
  ["a/b", "slash"],
  ["a b", "space"],
  ["x\0y", "NUL byte"],
];

Deno.test("create refuses invalid ids with InvalidIdFormat and leaves nothing", async () => {
  const factory = await testFactory();
  try {
    const config = await busyboxConfig(["true"]);
    // "../x" would land in the parent of the state root; make sure nothing appears there.
    const parent = factory.root.slice(0, factory.root.lastIndexOf("/"));
    const escapedBefore = exists(`${parent}/x`);
    for (const [id, why] of BAD_IDS) {
      const e = await expectError(
        () => factory.create(id, config),
        "InvalidIdFormat",
        "invalid container id",
        "1 to 128 letters, digits",
      );
      // The message shows the id (possibly cut short) so the person knows which one.
      assert.ok(e.message.includes(JSON.stringify(id.slice(0, 140))), `${why}: ${e.message}`);
      assertCreateLeftNothing(factory, id);
    }
    assert.deepEqual(cgroupDirsOf("x"), [], "a cgroup named after ../x was made");
    assert.equal(exists(`${parent}/x`), escapedBefore, "../x escaped the state root");
    assert.deepEqual(await factory.list(), []);
  } finally {
    await removeRoot(factory);
  }
});

Deno.test("load refuses invalid ids with InvalidIdFormat", async () => {
  const factory = await testFactory();
  try {
    for (const [id] of BAD_IDS) {
      await expectError(() => factory.load(id), "InvalidIdFormat", "invalid container id");
    }
    assert.deepEqual(stateEntries(factory), []);
  } finally {
    await removeRoot(factory);
  }
});

Deno.test("ids at the limits are accepted: 128 characters, leading digit and underscore", async () => {
  const factory = await testFactory();
  const ids = ["b".repeat(128), `9-${uniqueId()}`, `_${uniqueId()}.x`];
  try {
    const config = await busyboxConfig(["true"]);
    for (const id of ids) {
      const box = await factory.create(id, config);
      assert.equal(await box.status(), "created");
      await box.destroy();
      assertNothingLeft(factory, id);
    }
  } finally {
    for (const id of ids) {
      const box = await (async () => await factory.load(id))().catch(() => null);
      await box?.destroy();
    }
    await removeRoot(factory);
  }
});

// ---------------------------------------------------------------------------------------
// Ids in use and unknown ids

Deno.test("create with an id in use fails with IdInUse and leaves the first untouched", async () => {
  const factory = await testFactory();
  const id = uniqueId("inuse");
  const box = await factory.create(id, await busyboxConfig(["echo", "first"]));
  try {
    const before = Deno.readTextFileSync(`${factory.root}/${id}/state.json`);
    const e = await expectError(
      async () => factory.create(id, await busyboxConfig(["echo", "second"])),
      "IdInUse",
      `"${id}"`,
      "already exists",
    );
    assert.ok(e.message.includes(factory.root), e.message);
    // The state of the first is byte for byte what it was, and it still works.
    assert.equal(Deno.readTextFileSync(`${factory.root}/${id}/state.json`), before);
    assert.equal(await box.status(), "created");
    const loaded = await factory.load(id);
    assert.equal(await loaded.status(), "created");
    assert.deepEqual(loaded.config.process?.args, ["echo", "first"]);
    assert.deepEqual(await factory.list(), [id]);
    const out = await runIn(box);
    assert.equal(out.stdout, "first\n");
  } finally {
    await box.destroy();
    assertNothingLeft(factory, id);
    await removeRoot(factory);
  }
});

Deno.test("load of an unknown id fails with ContainerNotFound", async () => {
  const factory = await testFactory();
  const id = uniqueId("ghost");
  try {
    await expectError(() => factory.load(id), "ContainerNotFound", `"${id}"`, "does not exist");
    assert.deepEqual(stateEntries(factory), []);
  } finally {
    await removeRoot(factory);
  }
});

Deno.test("load of a destroyed container's id fails with ContainerNotFound", async () => {
  const factory = await testFactory();
  const id = uniqueId("gone");
  try {
    const box = await factory.create(id, await busyboxConfig(["true"]));
    await box.destroy();
    await expectError(() => factory.load(id), "ContainerNotFound", `"${id}"`);
    assertNothingLeft(factory, id);
  } finally {
    await removeRoot(factory);
  }
});

// ---------------------------------------------------------------------------------------
// Bad root filesystems and configs

Deno.test("a missing rootfs is ConfigInvalid naming root.path", async () => {
  const factory = await testFactory();
  const id = uniqueId("norootfs");
  const missing = `/tmp/cell-no-such-rootfs-${id}`;
  try {
    const config = await busyboxConfig(["true"], (s) => s.root.path = missing);
    await expectError(
      () => factory.create(id, config),
      "ConfigInvalid",
      "root.path",
      missing,
      "does not exist",
    );
    assertCreateLeftNothing(factory, id);
  } finally {
    await removeRoot(factory);
  }
});

Deno.test("a rootfs that is a regular file is ConfigInvalid naming root.path", async () => {
  const factory = await testFactory();
  const id = uniqueId("filerootfs");
  const file = await Deno.makeTempFile({ prefix: "cell-rootfs-file-" });
  try {
    const config = await busyboxConfig(["true"], (s) => s.root.path = file);
    await expectError(
      () => factory.create(id, config),
      "ConfigInvalid",
      "root.path",
      file,
      "not a directory",
    );
    assertCreateLeftNothing(factory, id);
  } finally {
    await Deno.remove(file);
    await removeRoot(factory);
  }
});

/** A parsed config.json, loosely typed so that tests can put wrong types in. */
// deno-lint-ignore no-explicit-any
type Json = Record<string, any>;

/** A config mutated as a parsed JSON document (so wrong types can be put in). */
async function jsonConfig(edit: (spec: Json) => void): Promise<unknown> {
  const spec = JSON.parse(JSON.stringify(await busyboxConfig(["true"])));
  edit(spec);
  return spec;
}

/** Creates with a bad config and checks the ConfigInvalid message and the clean host. */
async function expectConfigInvalid(
  edit: (spec: Json) => void,
  ...patterns: (string | RegExp)[]
): Promise<void> {
  const factory = await testFactory();
  const id = uniqueId("badcfg");
  try {
    const e = await expectError(
      async () => factory.create(id, await jsonConfig(edit)),
      "ConfigInvalid",
      "invalid container config:",
      ...patterns,
    );
    // One problem a line, each led by its JSON path.
    for (const line of e.message.split("\n").slice(1)) assert.match(line, /^\S+: \S/);
    assertCreateLeftNothing(factory, id);
  } finally {
    await removeRoot(factory);
  }
}

Deno.test("config: process.args of the wrong type is ConfigInvalid naming process.args", async () => {
  await expectConfigInvalid((s) => s.process.args = 5, /^process\.args: .+/m);
});

Deno.test("config: a config that is not an object is ConfigInvalid", async () => {
  const factory = await testFactory();
  const id = uniqueId("notobj");
  try {
    for (const bad of [null, 5, "config.json", []]) {
      await expectError(() => factory.create(id, bad), "ConfigInvalid", "must be an object");
      assertCreateLeftNothing(factory, id);
    }
  } finally {
    await removeRoot(factory);
  }
});

Deno.test("config: an unknown namespace type is ConfigInvalid naming the entry and the name", async () => {
  const index = (await busyboxConfig(["true"])).linux!.namespaces!.length;
  await expectConfigInvalid(
    (s) => s.linux.namespaces.push({ type: "bogusns" }),
    `linux.namespaces[${index}].type`,
    `unknown namespace "bogusns"`,
  );
});

Deno.test("config: a mount destination escaping the rootfs is ConfigInvalid", async () => {
  const index = (await busyboxConfig(["true"])).mounts!.length;
  await expectConfigInvalid(
    (s) => s.mounts.push({ destination: "/../../etc", type: "tmpfs", source: "tmpfs" }),
    `mounts[${index}].destination: mount target outside the rootfs`,
  );
});

Deno.test("config: uidMappings without a user namespace is ConfigInvalid", async () => {
  await expectConfigInvalid(
    (s) => s.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }],
    "linux.uidMappings: requires a user namespace",
  );
});

Deno.test("config: every problem is reported at once, each with its JSON path", async () => {
  await expectConfigInvalid(
    (s) => {
      s.process.args = 5;
      s.process.cwd = "relative";
      s.linux.namespaces.push({ type: "bogusns" });
    },
    /^process\.args: /m,
    /^process\.cwd: /m,
    /^linux\.namespaces\[\d+\]\.type: /m,
  );
});

// ---------------------------------------------------------------------------------------
// Failures inside the new container: reported, not turned into an exit code

for (const args of [["/nope"], ["nope-cmd"]]) {
  Deno.test(`start of a missing executable ${args[0]} rejects with SystemError "not found"`, async () => {
    await withContainer(await busyboxConfig(["true"]), async (box) => {
      const e = await expectError(
        () => box.start({ args, stdin: "null", stdout: "null", stderr: "null" }),
        "SystemError",
        "not found",
        `"${args[0]}"`,
      );
      assert.equal(e.errnoName, "ENOENT");
      assert.ok(e.syscall, "syscall is set");
      // Nothing was started: no init was recorded, no process is in the cgroup.
      assert.equal(await box.status(), "created");
      assert.deepEqual(await box.processes(), []);
      // The container is still usable: a good start after the bad one runs.
      const out = await runIn(box, { args: ["echo", "ok"] });
      assert.equal(out.stdout, "ok\n");
      assert.equal(out.code, 0);
    });
  });
}

Deno.test("start with a non-executable file rejects with SystemError (not an exit 126)", async () => {
  await withContainer(await busyboxConfig(["true"]), async (box) => {
    const e = await expectError(
      () => box.start({ args: ["/etc/passwd"], stdin: "null", stdout: "null", stderr: "null" }),
      "SystemError",
      `"/etc/passwd"`,
    );
    assert.equal(e.errnoName, "EACCES");
    assert.equal(await box.status(), "created");
  });
});

Deno.test("start with a missing cwd rejects with SystemError naming the cwd", async () => {
  await withContainer(await busyboxConfig(["true"]), async (box) => {
    const e = await expectError(
      () => box.start({ args: ["true"], cwd: "/does/not/exist", stdin: "null" }),
      "SystemError",
      `cwd "/does/not/exist"`,
      "does not exist",
    );
    assert.equal(e.syscall, "chdir");
    assert.equal(e.errnoName, "ENOENT");
    assert.equal(await box.status(), "created");
    assert.deepEqual(await box.processes(), []);
  });
});

Deno.test("a bind mount whose source is missing fails the start naming the mount and ENOENT", async () => {
  const id = uniqueId("mnt");
  const target = `/mnt-${id}`;
  const source = `/tmp/cell-no-such-source-${id}`;
  const config = await busyboxConfig(["true"], (s) => {
    s.mounts!.push({ destination: target, type: "bind", source, options: ["rbind"] });
  });
  try {
    await withContainer(config, async (box) => {
      const e = await expectError(
        () => box.start({ stdin: "null" }),
        "SystemError",
        "mount",
        target,
        source,
        "ENOENT",
      );
      assert.equal(e.syscall, "mount");
      assert.equal(e.errno, 2);
      assert.equal(e.errnoName, "ENOENT");
      assert.equal(e.path, target);
      assert.equal(await box.status(), "created");
    });
  } finally {
    // The mount point was made in the shared rootfs (as runc does); remove it.
    await Deno.remove(`${await rootfs()}${target}`).catch(() => {});
  }
});

Deno.test("a mount of an unknown filesystem type fails the start with ENODEV", async () => {
  const id = uniqueId("nosuchfs");
  const target = `/mnt-${id}`;
  const config = await busyboxConfig(["true"], (s) => {
    s.mounts!.push({ destination: target, type: "nosuchfs", source: "none" });
  });
  try {
    await withContainer(config, async (box) => {
      const e = await expectError(
        () => box.start({ stdin: "null" }),
        "SystemError",
        "nosuchfs",
        target,
        "ENODEV",
      );
      assert.equal(e.syscall, "mount");
      assert.equal(e.errnoName, "ENODEV");
      assert.equal(await box.status(), "created");
    });
  } finally {
    await Deno.remove(`${await rootfs()}${target}`).catch(() => {});
  }
});

Deno.test("an unusable extra fd rejects with SystemError EBADF", async () => {
  await withContainer(await busyboxConfig(["true"]), async (box) => {
    // An fd number far above anything this process has open.
    const e = await expectError(
      () => box.start({ args: ["true"], extraFds: [1_000_000], stdin: "null" }),
      "SystemError",
      "EBADF",
    );
    assert.equal(e.errnoName, "EBADF");
    assert.equal(await box.status(), "created");
  });
});

Deno.test("empty args are ConfigInvalid at start", async () => {
  await withContainer(await busyboxConfig(["true"]), async (box) => {
    await expectError(() => box.start({ args: [] }), "ConfigInvalid", "process.args");
    assert.equal(await box.status(), "created");
  });
});

Deno.test("an unknown signal is ConfigInvalid", async () => {
  await withContainer(await busyboxConfig(["sleep", "30"]), async (box) => {
    const proc = await box.start({ stdin: "null" });
    await expectError(() => box.signal("SIGBOGUS" as Deno.Signal), "ConfigInvalid", "SIGBOGUS");
    await expectError(() => box.signal(0), "ConfigInvalid", "unknown signal");
    await expectError(() => box.signal(65), "ConfigInvalid", "unknown signal");
    assert.equal(await box.status(), "running");
    await box.signal("SIGKILL");
    assert.equal((await proc.status).signal, "SIGKILL");
  });
});

// ---------------------------------------------------------------------------------------
// Operations in the wrong state

Deno.test("a destroyed container: status destroyed, operations ContainerDestroyed, destroy idempotent", async () => {
  const factory = await testFactory();
  const id = uniqueId("destroyed");
  try {
    const box = await factory.create(id, await busyboxConfig(["sleep", "30"]));
    const other = await factory.load(id); // a second handle on the same container
    const proc = await box.start({ stdin: "null" });
    await box.destroy();
    assert.equal((await proc.status).signal, "SIGKILL");
    for (const handle of [box, other]) {
      assert.equal(await handle.status(), "destroyed");
      await expectError(() => handle.start({ args: ["true"] }), "ContainerDestroyed", `"${id}"`);
      await expectError(() => handle.signal("SIGTERM"), "ContainerDestroyed", "destroyed");
      await expectError(() => handle.signal("SIGKILL", { all: true }), "ContainerDestroyed");
      await expectError(() => handle.processes(), "ContainerDestroyed", "destroyed");
      await handle.destroy();
      await handle.destroy();
    }
    assertNothingLeft(factory, id, [proc.pid]);
  } finally {
    await removeRoot(factory);
  }
});

Deno.test("signal on a created container is ContainerNotRunning; with all there is nothing to do", async () => {
  await withContainer(await busyboxConfig(["true"]), async (box, _factory, id) => {
    const e = await expectError(() => box.signal("SIGTERM"), "ContainerNotRunning", `"${id}"`);
    assert.ok(e.message.includes("created"), e.message);
    await box.signal("SIGKILL", { all: true }); // as runc's kill --all: no process, no error
    assert.equal(await box.status(), "created");
  });
});

Deno.test("start and signal after the init exited are ContainerNotRunning (stopped)", async () => {
  await withContainer(await busyboxConfig(["true"]), async (box, _factory, id) => {
    const proc = await box.start({ stdin: "null" });
    assert.equal((await proc.status).code, 0);
    assert.equal(await box.status(), "stopped");
    const e = await expectError(
      () => box.start({ args: ["true"] }),
      "ContainerNotRunning",
      `"${id}"`,
      "stopped",
    );
    assert.ok(e.message.includes("start"), e.message);
    // runc's words, which containerd's shim reads as "already gone".
    await expectError(() => box.signal("SIGTERM"), "ContainerNotRunning", "container not running");
    await box.signal("SIGKILL", { all: true }); // runc's kill --all of a stopped container
    assert.throws(() => proc.kill("SIGTERM"), (err: unknown) => {
      return err instanceof ContainerError && err.code === "ContainerNotRunning";
    });
    assert.equal(await box.status(), "stopped");
  });
});

Deno.test("promise-returning methods reject, they never throw synchronously", async () => {
  const factory = await testFactory();
  const id = uniqueId("sync");
  const box = await factory.create(id, await busyboxConfig(["true"]));
  try {
    await box.destroy();
    // Each call must return a promise that rejects, so `factory.create(...).catch(...)`
    // and `assert.rejects(() => ...)` work.
    const calls: [string, () => Promise<unknown>][] = [
      ["factory.create(bad id)", () => factory.create("../x", {})],
      ["factory.create(bad config)", () => factory.create(uniqueId(), { bad: true })],
      ["factory.load(bad id)", () => factory.load("../x")],
      ["factory.load(unknown)", () => factory.load(uniqueId())],
      ["box.processes() on destroyed", () => box.processes()],
      ["box.signal() on destroyed", () => box.signal("SIGTERM")],
      ["box.signal(bad signal)", () => box.signal(0)],
      ["box.start() on destroyed", () => box.start({ args: ["true"] })],
    ];
    for (const [what, call] of calls) {
      let result: Promise<unknown> | undefined;
      assert.doesNotThrow(() => {
        result = call();
      }, `${what} threw synchronously`);
      await assert.rejects(result!, ContainerError, what);
    }
    assert.deepEqual(stateEntries(factory), []);
  } finally {
    await box.destroy();
    await removeRoot(factory);
  }
});

// ---------------------------------------------------------------------------------------
// Regressions: bugs found in review, each held by a test

Deno.test({
  name: "regression: start() options are validated like process in the config",
  async fn() {
    // Each of these used to run (validateConfig checks the config's process, but nothing
    // checks start()'s options): uid/gid -1 and 2^32-1 run as ROOT (setresuid(-1) changes
    // nothing), a uid past 2^32 wraps, a fractional uid is truncated, an unknown rlimit
    // sets RLIMIT_CPU (index undefined, written as 0), an unknown capability name drops
    // every capability (1n << -1n is 0n), a relative cwd and a bad stdio mode are taken.
    const bad: [string, Record<string, unknown>][] = [
      ["user.uid -1", { user: { uid: -1, gid: -1 } }],
      ["user.uid 2^32-1", { user: { uid: 2 ** 32 - 1, gid: 2 ** 32 - 1 } }],
      ["user.uid 2^32+5", { user: { uid: 2 ** 32 + 5, gid: 0 } }],
      ["user.uid 1.5", { user: { uid: 1.5, gid: 0 } }],
      ["rlimits type", { rlimits: [{ type: "RLIMIT_BOGUS", soft: 7, hard: 7 }] }],
      ["capabilities name", { capabilities: { bounding: ["CAP_BOGUS"] } }],
      ["cwd relative", { cwd: "tmp" }],
      ["umask negative", { umask: -5 }],
      ["stdout mode", { stdout: "bogus" }],
      // This used to be a SystemError 'plan "BadString": EINVAL' that names neither args nor NUL.
      ["NUL in args", { args: ["id\0x"] }],
      ["NUL in env", { env: ["A=b\0c"] }],
    ];
    const accepted: string[] = [];
    for (const [what, options] of bad) {
      await withContainer(await busyboxConfig(["true"]), async (box) => {
        try {
          const proc = await box.start({
            args: ["id"],
            stdin: "null",
            stdout: "piped",
            stderr: "null",
            ...options,
          } as never);
          const out = await proc.output();
          accepted.push(
            `${what}: ran, printed ${JSON.stringify(new TextDecoder().decode(out.stdout))}`,
          );
        } catch (e) {
          if (!(e instanceof ContainerError) || e.code !== "ConfigInvalid") {
            accepted.push(`${what}: ${e instanceof ContainerError ? e.code : ""} ${e}`);
          }
        }
      });
    }
    assert.deepEqual(accepted, [], "bad start() options were not refused as ConfigInvalid");
  },
});

for (const variant of ["the same id under another state root", "a cgroupsPath naming its cgroup"]) {
  Deno.test({
    name: `regression: a container never adopts another's cgroup (${variant})`,
    async fn() {
      const first = await testFactory();
      const second = variant.startsWith("a cgroupsPath") ? first : await testFactory();
      const id = uniqueId("twin");
      const box = await first.create(id, await busyboxConfig(["sleep", "30"]));
      let twin: Container | undefined;
      try {
        await box.start({ stdin: "null" });
        // Both used to land in /cell/<id> (mkdir's EEXIST is taken as fine): the second
        // container shares the first one's cgroup, lists its processes and SIGKILLs them
        // on destroy.
        const twinId = second === first ? uniqueId("twin") : id;
        const config = await busyboxConfig(["true"], (s) => {
          if (second === first) s.linux!.cgroupsPath = `/cell/${id}`;
        });
        try {
          twin = await second.create(twinId, config);
        } catch (e) {
          assert.ok(e instanceof ContainerError, `${e}`);
          assert.match(e.message, new RegExp(id));
        }
        if (twin) {
          assert.deepEqual(await twin.processes(), [], "the twin sees the first one's processes");
          await twin.destroy();
        }
        assert.equal(await box.status(), "running", "destroying the twin killed the first");
      } finally {
        await twin?.destroy();
        await box.destroy();
        assertNothingLeft(first, id);
        await removeRoot(first);
        await removeRoot(second);
      }
    },
  });
}

Deno.test({
  name: 'regression: linux.cgroupsPath "/" (the host\'s root cgroup) is refused',
  async fn() {
    // Without device rules it used to be accepted and the container's cgroup is every
    // hierarchy's root: processes() lists the whole host (this process included), and
    // signal(..., { all: true }) would SIGKILL all of it. With the default config's
    // device rules it fails by luck, with 'write "a" to /sys/fs/cgroup/devices//
    // devices.deny: EINVAL' (the root devices cgroup cannot be changed). This test never
    // calls destroy() or signal() on such a container.
    const factory = await testFactory();
    try {
      for (const devices of [false, true]) {
        const id = uniqueId("rootcg");
        let box: Container | undefined;
        try {
          box = await factory.create(
            id,
            await busyboxConfig(["true"], (s) => {
              s.linux!.cgroupsPath = "/";
              if (!devices) delete s.linux!.resources;
            }),
          );
        } catch (e) {
          assert.ok(e instanceof ContainerError, `${e}`);
          assert.equal(e.code, "ConfigInvalid", e.message);
          assert.match(e.message, /linux\.cgroupsPath/);
        }
        if (box) {
          const pids = await box.processes();
          assert.ok(!pids.includes(Deno.pid), `processes() lists the host's ${pids.length}`);
          assert.fail("a container on the host's root cgroup was created");
        }
      }
    } finally {
      // Not destroy(): that would kill the host's processes. Its state is just removed.
      await removeRoot(factory);
    }
  },
});

Deno.test({
  name: "regression: an unusable extra fd is reported as that fd, not as stdio",
  async fn() {
    await withContainer(await busyboxConfig(["true"]), async (box) => {
      // The message used to be 'fcntl "stdio": EBADF' (child.zig placeFds labels every fd
      // "stdio" and the op index is -1 there, so no description is used).
      await expectError(
        () => box.start({ args: ["true"], extraFds: [1_000_000], stdin: "null" }),
        "SystemError",
        "1000000",
      );
    });
  },
});
