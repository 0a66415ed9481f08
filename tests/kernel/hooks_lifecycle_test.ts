/**
 * Hooks at their points in a container's life, through the library and the CLI.
 */

import assert from "node:assert/strict";
import { ContainerError } from "../../mod.ts";
import type { Hook } from "../../src/config/types.ts";
import {
  assertNothingLeft,
  busyboxConfig,
  runIn,
  testFactory,
  uniqueId,
} from "../support/fixture.ts";

const temporary: string[] = [];
globalThis.addEventListener("unload", () => {
  for (const path of temporary) {
    try {
      Deno.removeSync(path);
    } catch { /* never made */ }
  }
});

/** A temporary file, removed when the test process ends. */
async function tempFile(options?: Deno.MakeTempOptions): Promise<string> {
  const path = await Deno.makeTempFile(options);
  temporary.push(path, `${path}.inside`);
  return path;
}

/** A host script that appends "<kind> <status> <pid>" and the state's id to `log`. */
async function recorder(log: string): Promise<string> {
  const script = await tempFile({ suffix: ".sh" });
  await Deno.writeTextFile(
    script,
    `#!/bin/sh\nstate=$(cat)\necho "$1 $state" >> ${log}\n`,
  );
  await Deno.chmod(script, 0o755);
  return script;
}

function events(log: string): Array<{ kind: string; status: string; pid?: number; id: string }> {
  return Deno.readTextFileSync(log).trim().split("\n").map((line) => {
    const space = line.indexOf(" ");
    const state = JSON.parse(line.slice(space + 1));
    return { kind: line.slice(0, space), status: state.status, pid: state.pid, id: state.id };
  });
}

Deno.test("hooks run in order with the state on stdin; in-container ones in its namespaces", async () => {
  const log = await tempFile();
  const script = await recorder(log);
  const hook = (kind: string) => ({ path: script, args: [script, kind] });
  const inside = (kind: string) => ({
    path: "/bin/sh",
    args: ["sh", "-c", `echo "${kind} $(hostname)" >> /dev/shm/hooks`],
  });
  const spec = await busyboxConfig(["sleep", "30"], (s) => {
    s.hooks = {
      prestart: [hook("prestart")],
      createRuntime: [hook("createRuntime")],
      createContainer: [hook("createContainer"), {
        path: "/bin/sh",
        args: ["sh", "-c", `echo "createContainer $(hostname)" >> ${log}.inside`],
      }],
      startContainer: [inside("startContainer")],
      poststart: [hook("poststart")],
      poststop: [hook("poststop")],
    };
  });
  const factory = await testFactory();
  const id = uniqueId("hooks");
  const box = await factory.create(id, spec);
  const init = await box.start({ stdin: "null", stdout: "null", stderr: "null" });
  const seenInside = await runIn(box, { args: ["cat", "/dev/shm/hooks"] });
  assert.equal(seenInside.stdout, "startContainer cell\n", "startContainer: inside the root");
  assert.equal(
    Deno.readTextFileSync(`${log}.inside`),
    "createContainer cell\n",
    "createContainer: the container's uts namespace, the host's files",
  );
  await box.destroy();
  await init.status;
  const seen = events(log);
  assert.deepEqual(seen.map((e) => e.kind), [
    "prestart",
    "createRuntime",
    "createContainer",
    "poststart",
    "poststop",
  ]);
  // "created" for the create hooks, as the spec's validation suite checks (runc: "creating").
  assert.deepEqual(seen.map((e) => e.status), [
    "created",
    "created",
    "created",
    "running",
    "stopped",
  ]);
  assert.ok(seen.every((e) => e.id === id));
  assert.equal(seen[0].pid, init.pid);
});

Deno.test("a failing createRuntime hook fails the start and stops the init", async () => {
  const spec = await busyboxConfig(["sleep", "30"], (s) => {
    s.hooks = { createRuntime: [{ path: "/bin/sh", args: ["sh", "-c", "echo nope >&2; exit 3"] }] };
  });
  const factory = await testFactory();
  await using box = await factory.create(uniqueId("hook-fail"), spec);
  await assert.rejects(
    () => box.start(),
    (e) =>
      e instanceof ContainerError && e.code === "SystemError" &&
      /error running hook #0 \(createRuntime \/bin\/sh\): exit status 3: nope/.test(e.message),
  );
  // The init was stopped before it was recorded: nothing runs, and it may be started again.
  assert.equal(await box.status(), "created");
  assert.deepEqual(await box.processes(), []);
});

Deno.test("createRuntime runs before the root change, createContainer in the container's mount namespace from the rootfs", async () => {
  const log = await tempFile();
  const spec = await busyboxConfig(["true"], (s) => {
    s.hooks = {
      // The runtime's view of the stopped init: its root is still the host's.
      createRuntime: [{
        path: "/bin/sh",
        args: [
          "sh",
          "-c",
          `pid=$(sed 's/.*"pid":\\([0-9]*\\).*/\\1/'); ` +
          `echo "runtime $(readlink /proc/$pid/root) $(readlink /proc/$pid/ns/mnt)" >> ${log}`,
        ],
      }],
      createContainer: [{
        path: "/bin/sh",
        args: ["sh", "-c", `echo "container $(pwd) $(readlink /proc/self/ns/mnt)" >> ${log}`],
      }],
    };
  });
  const factory = await testFactory();
  await using box = await factory.create(uniqueId("hook-where"), spec);
  const init = await box.start({ stdin: "null" });
  assert.equal((await init.status).code, 0);
  const [runtime, container] = Deno.readTextFileSync(log).trim().split("\n").map((l) =>
    l.split(" ")
  );
  assert.equal(runtime[0], "runtime");
  assert.equal(runtime[1], "/", "createRuntime: the init has not changed its root yet");
  assert.equal(container[0], "container");
  assert.equal(container[1], spec.root.path, "createContainer: the rootfs is its cwd");
  assert.equal(container[2], runtime[2], "createContainer: in the init's mount namespace");
  assert.notEqual(container[2], Deno.readLinkSync("/proc/self/ns/mnt"));
});

Deno.test("startContainer hooks run in the init under its seccomp filter, with only stdio open", async () => {
  const spec = await busyboxConfig(["true"], (s) => {
    s.linux!.seccomp = {
      defaultAction: "SCMP_ACT_ALLOW",
      syscalls: [{ names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO" }],
    };
    s.hooks = {
      startContainer: [
        { path: "/bin/sh", args: ["sh", "-c", "test $(ls /proc/self/fd | wc -l) -eq 4"] },
        { path: "/bin/sh", args: ["sh", "-c", "mkdir /tmp/hooked || exit 7"] },
      ],
    };
  });
  const factory = await testFactory();
  await using box = await factory.create(uniqueId("hook-seccomp"), spec);
  await assert.rejects(
    () => box.start({ stdin: "null" }),
    (e) =>
      e instanceof ContainerError && e.code === "SystemError" &&
      /^error running hook #1 \(startContainer \/bin\/sh\): exit status 7: mkdir: .*Operation not permitted$/
        .test(e.message),
  );
  assert.equal(await box.status(), "stopped");
});

for (const kind of ["prestart", "createRuntime", "createContainer"] as const) {
  Deno.test(`a failing ${kind} hook fails a detached createInit at once and the container can be destroyed to nothing`, async () => {
    const spec = await busyboxConfig(["sleep", "30"], (s) => {
      s.hooks = { [kind]: [{ path: "/bin/sh", args: ["sh", "-c", "echo nope >&2; exit 3"] }] };
    });
    const factory = await testFactory();
    const id = uniqueId(`hook-${kind}`);
    const box = await factory.create(id, spec);
    // A detached init (the CLI's create) is not reaped here: this once waited for ever.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("createInit hung after the hook failed")), 10_000);
    });
    try {
      await assert.rejects(
        () => Promise.race([box.createInit({ detached: true, stdin: "null" }), timeout]),
        (e) =>
          e instanceof ContainerError && e.code === "SystemError" &&
          new RegExp(`error running hook #0 \\(${kind} /bin/sh\\): exit status 3: nope`).test(
            e.message,
          ),
      );
    } finally {
      clearTimeout(timer);
    }
    // The init was killed before it was recorded: a created container with no init, as
    // after a failed spawn, which destroy removes.
    assert.equal(await box.status(), "created");
    await box.destroy();
    assertNothingLeft(factory, id);
  });
}

Deno.test("a config without process: start needs the process's args, and runs them when given", async () => {
  const spec = await busyboxConfig(["true"], (s) => delete s.process);
  const factory = await testFactory();
  const id = uniqueId("noproc");
  const box = await factory.create(id, spec);
  try {
    await assert.rejects(
      () => box.start({ stdin: "null" }),
      (e) => e instanceof ContainerError && e.code === "ConfigInvalid" && /args/.test(e.message),
    );
    const out = await runIn(box, { args: ["echo", "given"] });
    assert.equal(out.stdout, "given\n");
  } finally {
    await box.destroy();
  }
  assertNothingLeft(factory, id);
});

Deno.test("a startContainer hook that cannot run, or runs too long, fails the start", async () => {
  for (
    const [hook, message] of [
      [
        { path: "/no/such/hook" },
        /error running hook #0 \(startContainer \/no\/such\/hook\): cannot run it: ENOENT/,
      ],
      [
        { path: "/bin/sh", args: ["sh", "-c", "sleep 30"], timeout: 1 },
        /error running hook #0 \(startContainer \/bin\/sh\): timed out after 1s/,
      ],
    ] as [Hook, RegExp][]
  ) {
    const spec = await busyboxConfig(["true"], (s) => {
      s.hooks = { startContainer: [hook] };
    });
    const factory = await testFactory();
    await using box = await factory.create(uniqueId("hook-bad"), spec);
    await assert.rejects(
      () => box.start({ stdin: "null" }),
      (e) => e instanceof ContainerError && message.test(e.message),
    );
  }
});

Deno.test("a failing poststart hook fails the start and stops the container (runtime-spec 1.3); poststop runs at destroy", async () => {
  const log = await tempFile();
  const spec = await busyboxConfig(["sleep", "30"], (s) => {
    s.hooks = {
      poststart: [{ path: "/bin/sh", args: ["sh", "-c", "echo late >&2; exit 4"] }],
      poststop: [{ path: "/bin/sh", args: ["sh", "-c", `echo poststop >> ${log}`] }],
    };
  });
  const factory = await testFactory();
  const id = uniqueId("hook-poststart");
  const box = await factory.create(id, spec);
  await assert.rejects(
    () => box.start({ stdin: "null", stdout: "null", stderr: "null" }),
    (e) =>
      e instanceof ContainerError && e.code === "SystemError" &&
      /error running hook #0 \(poststart \/bin\/sh\): exit status 4: late/.test(e.message),
  );
  assert.equal(await box.status(), "stopped", "the init was killed");
  assert.deepEqual(await box.processes(), []);
  await box.destroy();
  assert.equal(Deno.readTextFileSync(log), "poststop\n");
  assertNothingLeft(factory, id);
});
