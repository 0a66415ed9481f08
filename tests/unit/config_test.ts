import { lsmEnabled } from "../../src/config/validate_process.ts";
import assert from "node:assert/strict";
import { ContainerError } from "../../src/errors.ts";
import {
  CAPABILITIES,
  defaultConfig,
  sandboxConfig,
  type Spec,
  validateConfig,
} from "../../src/config/mod.ts";
import { splitMountOptions } from "../../src/config/mount_options.ts";
import { mapContent, MAX_MAP_BYTES } from "../../src/config/id_mappings.ts";

type Json = Record<string, unknown>;

/** Marks a key for deletion in {@linkcode config}. */
const DELETE = Symbol("delete");

/** A JSON copy of the default config (what a config.json on disk would parse to). */
function base(): Json {
  return JSON.parse(JSON.stringify(defaultConfig({ rootfs: "rootfs" })));
}

/** The smallest config cell accepts. */
function minimal(): Json {
  return {
    ociVersion: "1.0.2",
    root: { path: "/rootfs" },
    process: { user: { uid: 0, gid: 0 }, args: ["sh"], cwd: "/" },
  };
}

/**
 * The default config with changes applied; each change is a dotted path (numbers index
 * arrays) and a value, or DELETE to remove the key.
 */
function config(changes: Record<string, unknown>, start: Json = base()): Json {
  for (const [path, value] of Object.entries(changes)) {
    const keys = path.split(".");
    let node = start as Record<string, unknown>;
    for (const key of keys.slice(0, -1)) {
      if (typeof node[key] !== "object" || node[key] === null) node[key] = {};
      node = node[key] as Record<string, unknown>;
    }
    const last = keys[keys.length - 1];
    if (value === DELETE) delete node[last];
    else node[last] = value;
  }
  return start;
}

/** The problem lines of the ContainerError that validating `input` throws. */
function problems(input: unknown, bundle?: string): string[] {
  try {
    validateConfig(input, bundle === undefined ? {} : { bundle });
  } catch (e) {
    assert.ok(e instanceof ContainerError, `expected ContainerError, got ${e}`);
    assert.equal(e.code, "ConfigInvalid");
    const [first, ...rest] = e.message.split("\n");
    assert.equal(first, "invalid container config:");
    assert.ok(rest.length > 0);
    return rest;
  }
  assert.fail("expected validateConfig to throw");
}

/** Asserts that validating `input` reports a problem at `path` containing `fragment`. */
function assertProblem(input: unknown, path: string, fragment = ""): void {
  const lines = problems(input);
  const hit = lines.find((line) => line.startsWith(`${path}: `) && line.includes(fragment));
  assert.ok(hit, `no problem "${path}: ...${fragment}..." in:\n${lines.join("\n")}`);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null) {
    for (const item of Object.values(value)) deepFreeze(item);
    Object.freeze(value);
  }
  return value;
}

// --- defaults ---------------------------------------------------------------------------

Deno.test("defaultConfig passes validation and matches runc's example", () => {
  const spec = validateConfig(defaultConfig({ rootfs: "/srv/rootfs" }));
  assert.equal(spec.ociVersion, "1.0.2");
  assert.deepEqual(spec.root, { path: "/srv/rootfs", readonly: true });
  assert.equal(spec.hostname, "cell");
  assert.equal(spec.process?.terminal, false);
  assert.deepEqual(spec.process?.args, ["sh"]);
  assert.deepEqual(spec.process?.user, { uid: 0, gid: 0, additionalGids: [] });
  assert.deepEqual(spec.process?.rlimits, [{ type: "RLIMIT_NOFILE", hard: 1024, soft: 1024 }]);
  assert.equal(spec.process?.noNewPrivileges, true);
  assert.deepEqual(spec.mounts?.map((m) => m.destination), [
    "/proc",
    "/dev",
    "/dev/pts",
    "/dev/shm",
    "/dev/mqueue",
    "/sys",
    "/sys/fs/cgroup",
  ]);
  assert.deepEqual(spec.linux?.namespaces?.map((n) => n.type), [
    "pid",
    "network",
    "ipc",
    "uts",
    "mount",
    "cgroup",
  ]);
  assert.deepEqual(spec.linux?.resources, { devices: [{ allow: false, access: "rwm" }] });
  assert.ok(spec.linux?.maskedPaths?.includes("/proc/kcore"));
  assert.ok(spec.linux?.readonlyPaths?.includes("/proc/sys"));
});

Deno.test("defaultConfig takes args and hostname, and returns fresh objects", () => {
  const a = defaultConfig({ rootfs: "r", args: ["/bin/true"], hostname: "web" });
  assert.deepEqual(a.process?.args, ["/bin/true"]);
  assert.equal(a.hostname, "web");
  const b = defaultConfig({ rootfs: "r" });
  b.mounts?.push({ destination: "/x" });
  b.process?.env?.push("A=1");
  b.linux?.maskedPaths?.push("/y");
  assert.deepEqual(defaultConfig({ rootfs: "r" }).mounts?.length, 7);
  assert.deepEqual(defaultConfig({ rootfs: "r" }).process?.env?.length, 2);
  assert.ok(!defaultConfig({ rootfs: "r" }).linux?.maskedPaths?.includes("/y"));
});

Deno.test("sandboxConfig passes validation and hides the given paths", () => {
  const spec = validateConfig(
    sandboxConfig({ args: ["ls", "/"], hide: ["/usr/bin/deno", "/opt/cell/libcell.so"] }),
  );
  assert.deepEqual(spec.root, { path: "/", readonly: true });
  assert.equal(spec.hostname, "cell-sandbox");
  assert.deepEqual(spec.annotations, { "cell.sandbox": "true" });
  assert.deepEqual(spec.process?.env, [
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "TERM=xterm",
  ]);
  assert.equal(spec.process?.cwd, "/");
  assert.deepEqual(spec.mounts?.map((m) => m.destination), [
    "/proc",
    "/dev",
    "/dev/pts",
    "/dev/shm",
    "/dev/mqueue",
    "/tmp",
    "/sys",
  ]);
  assert.deepEqual(spec.linux?.namespaces?.map((n) => n.type).sort(), [
    "cgroup",
    "ipc",
    "mount",
    "network",
    "pid",
    "uts",
  ]);
  assert.ok(spec.linux?.maskedPaths?.includes("/proc/kcore"));
  assert.ok(spec.linux?.maskedPaths?.includes("/usr/bin/deno"));
  assert.ok(spec.linux?.maskedPaths?.includes("/opt/cell/libcell.so"));
});

Deno.test("sandboxConfig takes env, cwd and hostname; relative hide paths fail validation", () => {
  const spec = sandboxConfig({ args: ["id"], env: ["A=1"], cwd: "/tmp", hostname: "box" });
  assert.deepEqual(spec.process?.env, ["A=1"]);
  assert.equal(spec.process?.cwd, "/tmp");
  assert.equal(spec.hostname, "box");
  const bad = JSON.parse(JSON.stringify(sandboxConfig({ args: ["id"], hide: ["deno"] })));
  assertProblem(bad, "linux.maskedPaths[11]", "absolute");
});

Deno.test("CAPABILITIES lists all 41 capabilities by number", () => {
  assert.equal(CAPABILITIES.length, 41);
  assert.equal(CAPABILITIES[0], "CAP_CHOWN");
  assert.equal(CAPABILITIES[21], "CAP_SYS_ADMIN");
  assert.equal(CAPABILITIES[40], "CAP_CHECKPOINT_RESTORE");
  assert.equal(new Set(CAPABILITIES).size, 41);
});

// --- normalization ----------------------------------------------------------------------

Deno.test("a minimal config gets its optional arrays filled in", () => {
  const spec = validateConfig(minimal());
  assert.deepEqual(spec, {
    ociVersion: "1.0.2",
    root: { path: "/rootfs", readonly: false },
    mounts: [],
    process: {
      user: { uid: 0, gid: 0, additionalGids: [] },
      args: ["sh"],
      env: [],
      cwd: "/",
      rlimits: [],
    },
    linux: {
      namespaces: [],
      uidMappings: [],
      gidMappings: [],
      maskedPaths: [],
      readonlyPaths: [],
      devices: [],
    },
  });
});

Deno.test("relative root.path resolves against the bundle", () => {
  assert.equal(validateConfig(base(), { bundle: "/srv/b" }).root.path, "/srv/b/rootfs");
  assert.equal(
    validateConfig(config({ "root.path": "../r" }), { bundle: "/srv/b" }).root.path,
    "/srv/r",
  );
  assert.equal(
    validateConfig(config({ "root.path": "/abs" }), { bundle: "/srv/b" }).root.path,
    "/abs",
  );
  assert.equal(validateConfig(base()).root.path, "rootfs");
});

Deno.test("relative bind sources resolve against the bundle", () => {
  const input = config({
    mounts: [{ destination: "/data", type: "bind", source: "data", options: ["rbind"] }],
  });
  assert.equal(validateConfig(input, { bundle: "/srv/b" }).mounts?.[0].source, "/srv/b/data");
});

Deno.test("fields the spec does not define are ignored and dropped", () => {
  const spec = validateConfig(
    config({
      "x-custom": { a: 1 },
      "process.frobnicate": true,
      "linux.whatever": [1],
      "root.z": 1,
    }),
  );
  assert.ok(!("x-custom" in spec));
  assert.ok(!("frobnicate" in (spec.process ?? {})));
  assert.ok(!("whatever" in (spec.linux ?? {})));
  assert.deepEqual(spec.root, { path: "rootfs", readonly: true });
});

Deno.test("the input is not mutated and the result shares nothing with it", () => {
  const input = config({ "linux.sysctl": { "net.ipv4.ip_forward": "1" }, annotations: { a: "b" } });
  const copy = structuredClone(input);
  const spec: Spec = validateConfig(deepFreeze(input), { bundle: "/b" });
  assert.deepEqual(input, copy);
  spec.process?.args.push("x");
  spec.mounts?.[0].options?.push("ro");
  if (spec.annotations) spec.annotations.c = "d";
  assert.deepEqual(input, copy);
});

Deno.test("null counts as absent for optional fields", () => {
  const spec = validateConfig(
    config({ mounts: null, "process.env": null, "linux.seccomp": null, hooks: null }),
  );
  assert.deepEqual(spec.mounts, []);
  assert.deepEqual(spec.process?.env, []);
  assert.equal(spec.hooks, undefined);
});

Deno.test("mount destinations are normalized and unknown filesystem types pass", () => {
  const spec = validateConfig(
    config({
      mounts: [
        {
          destination: "/a/../b//c/",
          type: "overlay",
          source: "overlay",
          options: ["lowerdir=/x"],
        },
        { destination: "/d", type: "9p", options: ["trans=virtio", "newinstance", "ro"] },
      ],
    }),
  );
  assert.equal(spec.mounts?.[0].destination, "/b/c");
  assert.equal(spec.mounts?.[1].type, "9p");
});

Deno.test("device cgroup rules: -1 and null mean any and are dropped", () => {
  const spec = validateConfig(
    config({
      "linux.resources.devices": [
        { allow: false, access: "rwm" },
        { allow: true, type: "c", major: 1, minor: -1, access: "rw" },
        { allow: true, type: "b", major: null, minor: 3 },
      ],
    }),
  );
  assert.deepEqual(spec.linux?.resources?.devices, [
    { allow: false, access: "rwm" },
    { allow: true, type: "c", major: 1, access: "rw" },
    { allow: true, type: "b", minor: 3 },
  ]);
});

Deno.test("splitMountOptions separates flags from filesystem data", () => {
  assert.deepEqual(splitMountOptions(["nosuid", "mode=755", "ro", "newinstance"]), {
    flags: ["nosuid", "ro"],
    data: ["mode=755", "newinstance"],
  });
});

// --- top level --------------------------------------------------------------------------

Deno.test("input must be an object", () => {
  for (const input of [null, undefined, 42, "x", [], true]) {
    assert.deepEqual(problems(input), ["(root): must be an object"]);
  }
});

Deno.test("ociVersion is a required 1.x semver", () => {
  assertProblem(config({ ociVersion: DELETE }), "ociVersion", "required");
  assertProblem(config({ ociVersion: 1 }), "ociVersion", "must be a string");
  assertProblem(config({ ociVersion: "1.0" }), "ociVersion", "must be a version");
  assertProblem(config({ ociVersion: "latest" }), "ociVersion", "must be a version");
  assertProblem(config({ ociVersion: "2.0.0" }), "ociVersion", "unsupported major version 2");
  assertProblem(config({ ociVersion: "0.9.0" }), "ociVersion", "unsupported major version 0");
  for (const ok of ["1.0.0", "1.0.2-dev", "1.2.0", "1.1.0-rc.3+abc"]) {
    assert.equal(validateConfig(config({ ociVersion: ok })).ociVersion, ok);
  }
});

Deno.test("root.path is a required non-empty string", () => {
  assertProblem(config({ root: DELETE }), "root", "required");
  assertProblem(config({ root: "rootfs" }), "root", "must be an object");
  assertProblem(config({ "root.path": DELETE }), "root.path", "required");
  assertProblem(config({ "root.path": "" }), "root.path", "non-empty string");
  assertProblem(config({ "root.path": 3 }), "root.path", "non-empty string");
  assertProblem(config({ "root.readonly": "yes" }), "root.readonly", "must be a boolean");
});

Deno.test("hostname and domainname need a uts namespace, new or joined", () => {
  const noUts = base().linux as Json;
  noUts.namespaces = (noUts.namespaces as Json[]).filter((n) => n.type !== "uts");
  assertProblem(config({ linux: noUts }), "hostname", "requires a uts namespace");
  assertProblem(
    config({ linux: noUts, domainname: "d" }),
    "domainname",
    "requires a uts namespace",
  );
  const joined = config({ "linux.namespaces": [{ type: "uts", path: "/proc/1/ns/uts" }] });
  assert.equal(validateConfig(joined).hostname, "cell", "a joined uts namespace is named too");
  assertProblem(config({ hostname: 5 }), "hostname", "must be a string");
  assertProblem(config({ hostname: "h".repeat(65) }), "hostname", "at most 64 bytes");
  assert.equal(validateConfig(config({ linux: noUts, hostname: DELETE })).hostname, undefined);
  assert.equal(validateConfig(config({ domainname: "example" })).domainname, "example");
});

Deno.test("annotations must map to strings and are kept", () => {
  assertProblem(config({ annotations: { a: 1 } }), "annotations.a", "must be a string");
  assertProblem(config({ annotations: { "io.x": [] } }), 'annotations["io.x"]', "must be a string");
  assertProblem(config({ annotations: [] }), "annotations", "must be an object");
  const spec = validateConfig(config({ annotations: { "org.example": "v" } }));
  assert.deepEqual(spec.annotations, { "org.example": "v" });
});

Deno.test("a __proto__ key in a string map stays a plain key", () => {
  const text = JSON.stringify(base()).replace("{", '{"annotations":{"__proto__":"x"},');
  const spec = validateConfig(JSON.parse(text));
  assert.deepEqual(Object.keys(spec.annotations ?? {}), ["__proto__"]);
  assert.equal(Object.getPrototypeOf(spec.annotations), Object.prototype);
});

Deno.test("other platforms are not supported", () => {
  for (const platform of ["solaris", "windows", "vm", "zos"]) {
    assertProblem(config({ [platform]: { a: 1 } }), platform, "not supported");
  }
});

// --- hooks ------------------------------------------------------------------------------

Deno.test("hooks: every list is kept in order, with unknown keys dropped", () => {
  const hooks = {
    prestart: [{ path: "/bin/a" }],
    createRuntime: [{ path: "/bin/b", args: ["b", "-x"], env: ["A=1", "B=x=y"], timeout: 5 }],
    createContainer: [{ path: "/bin/c", extra: true }, { path: "/bin/d", args: [] }],
    startContainer: [],
    poststart: [{ path: "/usr/libexec/e", timeout: 1 }],
    poststop: [{ path: "/bin/f", env: [] }],
    notAHookList: [{ path: "relative" }],
  };
  const spec = validateConfig(config({ hooks }));
  assert.deepEqual(spec.hooks, {
    prestart: [{ path: "/bin/a" }],
    createRuntime: [{ path: "/bin/b", args: ["b", "-x"], env: ["A=1", "B=x=y"], timeout: 5 }],
    createContainer: [{ path: "/bin/c" }, { path: "/bin/d", args: [] }],
    startContainer: [],
    poststart: [{ path: "/usr/libexec/e", timeout: 1 }],
    poststop: [{ path: "/bin/f", env: [] }],
  });
  assert.deepEqual(validateConfig(config({ hooks: {} })).hooks, {});
  assert.deepEqual(validateConfig(config({ hooks: { poststop: null } })).hooks, {});
  assert.equal(validateConfig(base()).hooks, undefined);
});

Deno.test("hooks: paths are absolute, args and env are string lists, timeout >= 1", () => {
  const hook = (kind: string, entry: unknown, index = 0) => {
    const list: unknown[] = [{ path: "/bin/true" }];
    list[index] = entry;
    return config({ [`hooks.${kind}`]: list });
  };
  assertProblem(config({ hooks: [] }), "hooks", "must be an object");
  assertProblem(config({ "hooks.poststart": {} }), "hooks.poststart", "must be an array");
  assertProblem(hook("poststop", "/bin/true"), "hooks.poststop[0]", "must be an object");
  assertProblem(hook("poststart", { path: "x" }, 1), "hooks.poststart[1].path", "absolute path");
  assertProblem(hook("prestart", {}), "hooks.prestart[0].path", "required");
  assertProblem(hook("prestart", { path: 7 }), "hooks.prestart[0].path", "absolute path");
  assertProblem(hook("prestart", { path: "/a\0b" }), "hooks.prestart[0].path", "NUL");
  assertProblem(
    hook("createRuntime", { path: "/x", args: "x" }),
    "hooks.createRuntime[0].args",
    "must be an array",
  );
  assertProblem(
    hook("createRuntime", { path: "/x", args: ["x", 1] }),
    "hooks.createRuntime[0].args[1]",
    "must be a string",
  );
  assertProblem(
    hook("createContainer", { path: "/x", env: ["PATH"] }),
    "hooks.createContainer[0].env[0]",
    "KEY=value",
  );
  assertProblem(
    hook("createContainer", { path: "/x", env: ["=v"] }),
    "hooks.createContainer[0].env[0]",
    "KEY=value",
  );
  for (const timeout of [0, -1, 1.5, "5", 2 ** 31]) {
    assertProblem(
      hook("startContainer", { path: "/x", timeout }),
      "hooks.startContainer[0].timeout",
      "whole number of seconds",
    );
  }
  const lines = problems(
    config({ "hooks.poststart": [{ path: "/ok" }, { path: "rel", timeout: 0 }] }),
  );
  assert.deepEqual(lines, [
    "hooks.poststart[1].path: must be an absolute path",
    "hooks.poststart[1].timeout: must be a whole number of seconds from 1 to 2147483",
  ]);
});

// --- process ----------------------------------------------------------------------------

Deno.test("process is optional (the spec's start refuses it); when given it needs args, cwd and user", () => {
  assert.equal(validateConfig(config({ process: DELETE })).process, undefined);
  assertProblem(config({ process: [] }), "process", "must be an object");
  const lines = problems(config({ "process.args": [] }));
  assert.ok(lines.includes("process.args: must be a non-empty array of strings"));
  assertProblem(config({ "process.args": DELETE }), "process.args", "non-empty array of strings");
  assertProblem(config({ "process.args": "sh" }), "process.args", "non-empty array of strings");
  assertProblem(config({ "process.args": ["sh", 1] }), "process.args[1]", "must be a string");
  assertProblem(config({ "process.cwd": DELETE }), "process.cwd", "required");
  assertProblem(config({ "process.cwd": "tmp" }), "process.cwd", "must be an absolute path");
  assertProblem(config({ "process.user": DELETE }), "process.user", "required");
});

Deno.test("process.user ids and umask are range-checked", () => {
  assertProblem(config({ "process.user.uid": -1 }), "process.user.uid");
  assertProblem(config({ "process.user.uid": 2 ** 32 - 1 }), "process.user.uid");
  assertProblem(config({ "process.user.uid": 1.5 }), "process.user.uid");
  assertProblem(config({ "process.user.gid": "0" }), "process.user.gid");
  assertProblem(config({ "process.user.gid": DELETE }), "process.user.gid", "required");
  assertProblem(config({ "process.user.umask": 0o1000 }), "process.user.umask");
  assertProblem(
    config({ "process.user.additionalGids": [1, "x"] }),
    "process.user.additionalGids[1]",
  );
  assertProblem(
    config({ "process.user.additionalGids": 5 }),
    "process.user.additionalGids",
    "array",
  );
  assertProblem(
    config({ "process.user.username": "root" }),
    "process.user.username",
    "not supported",
  );
  const spec = validateConfig(
    config({ "process.user": { uid: 2 ** 32 - 2, gid: 7, umask: 0o22, additionalGids: [1, 2] } }),
  );
  assert.deepEqual(spec.process?.user, {
    uid: 2 ** 32 - 2,
    gid: 7,
    umask: 0o22,
    additionalGids: [1, 2],
  });
});

Deno.test("process.env entries contain =", () => {
  assertProblem(config({ "process.env": ["A=1", "NOEQUALS"] }), "process.env[1]", "KEY=value");
  assertProblem(config({ "process.env": ["=x"] }), "process.env[0]", "KEY=value");
  assertProblem(config({ "process.env": [1] }), "process.env[0]", "must be a string");
  assertProblem(config({ "process.env": "A=1" }), "process.env", "must be an array");
  assert.deepEqual(validateConfig(config({ "process.env": ["A=", "B=c=d"] })).process?.env, [
    "A=",
    "B=c=d",
  ]);
});

Deno.test("process.terminal is a boolean, and unimplemented process fields are errors", () => {
  // A terminal is accepted here; starting the process needs a console socket.
  assert.equal(validateConfig(config({ "process.terminal": true })).process?.terminal, true);
  assertProblem(config({ "process.terminal": "no" }), "process.terminal", "must be a boolean");
  const size = validateConfig(config({ "process.consoleSize": { height: 24, width: 80 } }));
  assert.deepEqual(size.process?.consoleSize, { height: 24, width: 80 });
  assertProblem(config({ "process.consoleSize": { height: 24 } }), "process.consoleSize.width");
  assertProblem(
    config({ "process.consoleSize": { height: -1, width: 80 } }),
    "process.consoleSize.height",
  );
  const io = validateConfig(
    config({ "process.ioPriority": { class: "IOPRIO_CLASS_IDLE", priority: 7 } }),
  );
  assert.deepEqual(io.process?.ioPriority, { class: "IOPRIO_CLASS_IDLE", priority: 7 });
  assertProblem(
    config({ "process.ioPriority": { class: "IOPRIO_CLASS_NONE", priority: 0 } }),
    "process.ioPriority.class",
    "must be one of",
  );
  assertProblem(
    config({ "process.ioPriority": { class: "IOPRIO_CLASS_BE", priority: 8 } }),
    "process.ioPriority.priority",
  );
  const sched = validateConfig(
    config({
      "process.scheduler": {
        policy: "SCHED_FIFO",
        priority: 10,
        flags: ["SCHED_FLAG_RESET_ON_FORK"],
      },
    }),
  );
  assert.deepEqual(sched.process?.scheduler, {
    policy: "SCHED_FIFO",
    priority: 10,
    flags: ["SCHED_FLAG_RESET_ON_FORK"],
  });
  assertProblem(
    config({ "process.scheduler": { policy: "SCHED_ISO" } }),
    "process.scheduler.policy",
  );
  assertProblem(
    config({ "process.scheduler": { policy: "SCHED_RR" } }),
    "process.scheduler.priority",
    "required",
  );
  assertProblem(
    config({ "process.scheduler": { policy: "SCHED_OTHER", nice: 20 } }),
    "process.scheduler.nice",
  );
  assertProblem(
    config({ "process.scheduler": { policy: "SCHED_OTHER", flags: ["SCHED_FLAG_X"] } }),
    "process.scheduler.flags[0]",
    "unknown flag",
  );
  const affinity = validateConfig(
    config({ "process.execCPUAffinity": { initial: "0-1, 3", final: "2" } }),
  );
  assert.deepEqual(affinity.process?.execCPUAffinity, { initial: "0-1, 3", final: "2" });
  for (const bad of ["1-0", "a", "0-1024", ""]) {
    assertProblem(
      config({ "process.execCPUAffinity": { final: bad } }),
      "process.execCPUAffinity.final",
      "is not a CPU or range",
    );
  }
  assertProblem(config({ "process.commandLine": "sh" }), "process.commandLine", "not supported");
  // A security label is never dropped: refused when the host lacks the module.
  const lsms = [
    ["apparmorProfile", "docker-default", "AppArmor"],
    ["selinuxLabel", "system_u:system_r:svirt_lxc_net_t:s0", "SELinux"],
  ] as const;
  for (const [key, value, module] of lsms) {
    if (lsmEnabled(module)) {
      assert.equal(validateConfig(config({ [`process.${key}`]: value })).process?.[key], value);
    } else {
      const why = `this host has no ${module}`;
      assertProblem(config({ [`process.${key}`]: value }), `process.${key}`, why);
    }
    assertProblem(config({ [`process.${key}`]: 7 }), `process.${key}`);
  }
});

Deno.test("process.noNewPrivileges and oomScoreAdj are typed", () => {
  assertProblem(config({ "process.noNewPrivileges": 1 }), "process.noNewPrivileges", "boolean");
  assertProblem(config({ "process.oomScoreAdj": 1001 }), "process.oomScoreAdj");
  assert.equal(
    validateConfig(config({ "process.oomScoreAdj": -1000 })).process?.oomScoreAdj,
    -1000,
  );
});

Deno.test("capabilities must be known names", () => {
  assertProblem(
    config({ "process.capabilities.bounding": ["CAP_KILL", "CAP_FOO"] }),
    "process.capabilities.bounding[1]",
    'unknown capability "CAP_FOO"',
  );
  assertProblem(
    config({ "process.capabilities.ambient": ["kill"] }),
    "process.capabilities.ambient[0]",
  );
  assertProblem(
    config({ "process.capabilities.effective": "CAP_KILL" }),
    "process.capabilities.effective",
  );
  assertProblem(
    config({ "process.capabilities": [] }),
    "process.capabilities",
    "must be an object",
  );
  const spec = validateConfig(config({ "process.capabilities": { ambient: ["CAP_BPF"] } }));
  assert.deepEqual(spec.process?.capabilities, {
    bounding: [],
    effective: [],
    permitted: [],
    inheritable: [],
    ambient: ["CAP_BPF"],
  });
});

Deno.test("rlimits: known types, soft <= hard, no duplicates", () => {
  const limit = (type: string, soft: unknown, hard: unknown) => ({ type, soft, hard });
  assertProblem(
    config({ "process.rlimits": [limit("RLIMIT_FOO", 1, 1)] }),
    "process.rlimits[0].type",
    'unknown resource limit "RLIMIT_FOO"',
  );
  assertProblem(config({ "process.rlimits": [limit("NOFILE", 1, 1)] }), "process.rlimits[0].type");
  assertProblem(
    config({ "process.rlimits": [limit("RLIMIT_NOFILE", 2048, 1024)] }),
    "process.rlimits[0].soft",
    "must not exceed hard",
  );
  assertProblem(
    config({ "process.rlimits": [limit("RLIMIT_CORE", 0, 0), limit("RLIMIT_CORE", 1, 1)] }),
    "process.rlimits[1].type",
    "duplicate",
  );
  assertProblem(
    config({ "process.rlimits": [limit("RLIMIT_AS", 0, -1)] }),
    "process.rlimits[0].hard",
  );
  assertProblem(
    config({ "process.rlimits": [limit("RLIMIT_AS", "1", 1)] }),
    "process.rlimits[0].soft",
  );
  assertProblem(config({ "process.rlimits": [5] }), "process.rlimits[0]", "must be an object");
  const unlimited = JSON.parse(
    '{"type":"RLIMIT_CORE","soft":18446744073709551615,"hard":18446744073709551615}',
  );
  validateConfig(config({ "process.rlimits": [unlimited] }));
});

// --- mounts -----------------------------------------------------------------------------

Deno.test("mount destinations are absolute and stay inside the rootfs", () => {
  const at = (destination: unknown) => config({ mounts: [{ destination, type: "tmpfs" }] });
  assertProblem(at("tmp"), "mounts[0].destination", "must be an absolute path");
  assertProblem(at(undefined), "mounts[0].destination", "required");
  assertProblem(at(7), "mounts[0].destination", "must be an absolute path");
  assertProblem(at("/../etc"), "mounts[0].destination", "mount target outside the rootfs");
  assertProblem(at("/a/../../etc"), "mounts[0].destination", "mount target outside the rootfs");
  assert.equal(validateConfig(at("/a/../b")).mounts?.[0].destination, "/b");
  assertProblem(config({ mounts: {} }), "mounts", "must be an array");
  assertProblem(config({ mounts: ["/tmp"] }), "mounts[0]", "must be an object");
});

Deno.test("mount options: unsupported ones fail, data options pass", () => {
  const opts = (options: unknown) =>
    config({ mounts: [{ destination: "/x", type: "tmpfs", source: "tmpfs", options }] });
  assert.deepEqual(validateConfig(opts(["tmpcopyup"])).mounts?.[0].options, ["tmpcopyup"]);
  assertProblem(
    config({ mounts: [{ destination: "/x", type: "proc", source: "p", options: ["tmpcopyup"] }] }),
    "mounts[0].options",
    "only for tmpfs",
  );
  assertProblem(opts(["idmap"]), "mounts[0].options[0]", `"idmap" is only for bind mounts`);
  assertProblem(opts(["ridmap"]), "mounts[0].options[0]", `"ridmap" is only for bind mounts`);
  assertProblem(opts(["ro", 5]), "mounts[0].options[1]", "must be a string");
  assertProblem(opts("ro"), "mounts[0].options", "must be an array");
  const ok = ["ro", "nosuid", "mode=755", "size=65536k", "newinstance", "ptmxmode=0666", "gid=5"];
  assert.deepEqual(validateConfig(opts(ok)).mounts?.[0].options, ok);
});

Deno.test("bind mounts need a source; type none needs bind", () => {
  assertProblem(
    config({ mounts: [{ destination: "/x", type: "bind", options: ["ro"] }] }),
    "mounts[0].source",
    "required for a bind mount",
  );
  assertProblem(
    config({ mounts: [{ destination: "/x", type: "none", options: ["rbind"] }] }),
    "mounts[0].source",
    "required for a bind mount",
  );
  assertProblem(
    config({ mounts: [{ destination: "/x", type: "none", source: "/y" }] }),
    "mounts[0].type",
    "bind or rbind",
  );
  assertProblem(config({ mounts: [{ destination: "/x", type: 1 }] }), "mounts[0].type", "string");
  assertProblem(
    config({ mounts: [{ destination: "/x", type: "bind", source: "/y", uidMappings: [{}] }] }),
    "mounts[0].uidMappings[0].containerID",
    "must be an integer",
  );
  validateConfig(
    config({ mounts: [{ destination: "/x", type: "none", source: "/y", options: ["bind"] }] }),
  );
});

Deno.test("id-mapped mounts: both mappings, bind only, one option, disjoint ranges", () => {
  const range = (containerID: number, hostID: number, size: number) => ({
    containerID,
    hostID,
    size,
  });
  const mount = (extra: Record<string, unknown>, type = "bind") =>
    config({ mounts: [{ destination: "/x", type, source: "/y", options: ["bind"], ...extra }] });
  const maps = { uidMappings: [range(0, 1000, 1)], gidMappings: [range(0, 1000, 1)] };
  const ok = validateConfig(mount({ ...maps, options: ["rbind", "ridmap"] })).mounts?.[0];
  assert.deepEqual(ok?.uidMappings, [range(0, 1000, 1)]);
  assert.deepEqual(ok?.options, ["rbind", "ridmap"]);
  // Mappings without an option are an idmap, as runc and crun take them.
  validateConfig(mount(maps));
  assertProblem(
    mount({ uidMappings: maps.uidMappings }),
    "mounts[0].gidMappings",
    "required with uidMappings",
  );
  assertProblem(
    mount({ gidMappings: maps.gidMappings }),
    "mounts[0].uidMappings",
    "required with gidMappings",
  );
  // Empty lists ask for nothing, as everywhere in a config.
  assert.equal(
    validateConfig(mount({ uidMappings: [], gidMappings: [] })).mounts?.[0].uidMappings,
    undefined,
  );
  assertProblem(
    config({ mounts: [{ destination: "/x", type: "tmpfs", source: "tmpfs", ...maps }] }),
    "mounts[0].uidMappings",
    "only a bind mount can be id-mapped",
  );
  assertProblem(
    mount({ ...maps, options: ["bind", "idmap", "ridmap"] }),
    "mounts[0].options[2]",
    "choose one",
  );
  assertProblem(
    mount({ uidMappings: [range(0, 1000, 10), range(9, 5000, 1)], gidMappings: maps.gidMappings }),
    "mounts[0].uidMappings[1]",
    "overlaps mounts[0].uidMappings[0]",
  );
  assertProblem(
    mount({ uidMappings: maps.uidMappings, gidMappings: [range(0, 10, 5), range(100, 12, 5)] }),
    "mounts[0].gidMappings[1]",
    "overlaps mounts[0].gidMappings[0]",
  );
  assertProblem(
    mount({ uidMappings: [range(0, 2 ** 32 - 2, 5)], gidMappings: maps.gidMappings }),
    "mounts[0].uidMappings[0].size",
    "past the largest id",
  );
  assertProblem(
    mount({ uidMappings: [range(0, 1, 0)], gidMappings: maps.gidMappings }),
    "mounts[0].uidMappings[0].size",
  );
  const many = Array.from({ length: 341 }, (_, i) => range(i, i, 1));
  assertProblem(
    mount({ uidMappings: many, gidMappings: maps.gidMappings }),
    "mounts[0].uidMappings",
    "at most 340",
  );
});

Deno.test("id maps: the text written to uid_map/gid_map must be shorter than a page (4096 bytes)", () => {
  // 170 ranges of 24 bytes ("4000000000 3000000000 1\n"), and one of 15 or 16 bytes.
  const long = (last: number) => [
    ...Array.from({ length: 170 }, (_, i) => ({
      containerID: 4_000_000_000 + i * 10,
      hostID: 3_000_000_000 + i * 10,
      size: 1,
    })),
    { containerID: 0, hostID: last, size: 100 },
  ];
  const fits = long(10_000_000); // "0 10000000 100\n"
  const over = long(100_000_000); // "0 100000000 100\n"
  assert.equal(mapContent(fits).length, MAX_MAP_BYTES);
  assert.equal(mapContent(over).length, MAX_MAP_BYTES + 1);
  const small = [{ containerID: 0, hostID: 1000, size: 1 }];
  const mount = (uidMappings: unknown, gidMappings: unknown) =>
    config({
      mounts: [{ destination: "/x", type: "bind", source: "/y", uidMappings, gidMappings }],
    });
  validateConfig(mount(fits, fits));
  assertProblem(mount(over, small), "mounts[0].uidMappings", "4096 bytes");
  assertProblem(mount(small, over), "mounts[0].gidMappings", "4096 bytes");
  const userns = (uidMappings: unknown, gidMappings: unknown) =>
    config({
      "linux.namespaces": [{ type: "mount" }, { type: "uts" }, { type: "user" }],
      "linux.uidMappings": uidMappings,
      "linux.gidMappings": gidMappings,
    });
  validateConfig(userns(fits, fits));
  assertProblem(userns(over, small), "linux.uidMappings", "the kernel takes at most 4095");
  assertProblem(userns(small, over), "linux.gidMappings", "the kernel takes at most 4095");
});

Deno.test("a bare idmap takes the container's user namespace mappings, else is refused", () => {
  const bare = { destination: "/x", type: "bind", source: "/y", options: ["bind", "idmap"] };
  assertProblem(config({ mounts: [bare] }), "mounts[0].options[1]", "has no user namespace");
  const userns = config({
    mounts: [bare],
    "linux.namespaces": [{ type: "mount" }, { type: "uts" }, { type: "user" }],
    "linux.uidMappings": [{ containerID: 0, hostID: 100000, size: 65536 }],
    "linux.gidMappings": [{ containerID: 0, hostID: 200000, size: 65536 }],
  });
  const mount = validateConfig(userns).mounts?.[0];
  assert.deepEqual(mount?.uidMappings, [{ containerID: 0, hostID: 100000, size: 65536 }]);
  assert.deepEqual(mount?.gidMappings, [{ containerID: 0, hostID: 200000, size: 65536 }]);
  const joined = config({
    mounts: [bare],
    "linux.namespaces": [{ type: "mount" }, { type: "uts" }, {
      type: "user",
      path: "/proc/1/ns/user",
    }],
  });
  assertProblem(joined, "mounts[0].options[1]", "joins a user namespace");
});

Deno.test("mount options a mount would ignore are refused; recursive attributes are known", () => {
  const bind = (options: unknown) =>
    config({ mounts: [{ destination: "/x", type: "bind", source: "/y", options }] });
  const cgroup = (options: unknown) =>
    config({
      mounts: [{ destination: "/sys/fs/cgroup", type: "cgroup", source: "cgroup", options }],
    });
  assertProblem(bind(["rbind", "sync"]), "mounts[0].options[1]", "no effect on a bind mount");
  // Filesystem data on a bind goes to mount(2) as with runc and crun (runtime-tools' mounts).
  validateConfig(bind(["bind", "mode=755", "size=1k"]));
  assertProblem(bind(["rbind", "rro", "lazytime"]), "mounts[0].options[2]", "bind mount");
  assertProblem(cgroup(["nosuid", "noatime"]), "mounts[0].options[1]", "no effect on a cgroup");
  const recursive = [
    "rbind",
    "rro",
    "rrw",
    "rnosuid",
    "rsuid",
    "rnodev",
    "rdev",
    "rnoexec",
    "rexec",
    "rnoatime",
    "ratime",
    "rrelatime",
    "rnorelatime",
    "rstrictatime",
    "rnostrictatime",
    "rnodiratime",
    "rdiratime",
    "rnosymfollow",
    "rsymfollow",
    "nosymfollow",
    "rprivate",
  ];
  assert.deepEqual(validateConfig(bind(recursive)).mounts?.[0].options, recursive);
  validateConfig(cgroup(["nosuid", "noexec", "nodev", "relatime", "ro", "rro"]));
});

// --- linux: namespaces and id mappings --------------------------------------------------

Deno.test("namespaces: known, unique, absolute paths", () => {
  const ns = (namespaces: unknown) => config({ "linux.namespaces": namespaces, hostname: DELETE });
  assertProblem(
    ns([{ type: "pid" }, { type: "mount" }, { type: "foo" }]),
    "linux.namespaces[2].type",
    'unknown namespace "foo"',
  );
  assertProblem(ns([{ type: "pid" }, { type: "pid" }]), "linux.namespaces[1].type", "duplicate");
  assertProblem(ns([{ type: "net", path: "x" }]), "linux.namespaces[0].type", "unknown namespace");
  assertProblem(
    ns([{ type: "network", path: "proc/1/ns/net" }]),
    "linux.namespaces[0].path",
    "absolute",
  );
  assertProblem(ns([{}]), "linux.namespaces[0].type", "required");
  assertProblem(ns([{ type: 3 }]), "linux.namespaces[0].type", "must be a string");
  assertProblem(ns({ type: "pid" }), "linux.namespaces", "must be an array");
  assertProblem(config({ linux: [] }), "linux", "must be an object");
  const spec = validateConfig(ns([{ type: "network", path: "/run/netns/a" }, { type: "pid" }]));
  assert.deepEqual(spec.linux?.namespaces, [{ type: "network", path: "/run/netns/a" }, {
    type: "pid",
  }]);
});

Deno.test("id mappings need a user namespace, and a new user namespace needs mappings", () => {
  const map = [{ containerID: 0, hostID: 100000, size: 65536 }];
  const withUser = [...(base().linux as { namespaces: Json[] }).namespaces, { type: "user" }];
  assertProblem(
    config({ "linux.uidMappings": map }),
    "linux.uidMappings",
    "requires a user namespace",
  );
  assertProblem(
    config({ "linux.gidMappings": map }),
    "linux.gidMappings",
    "requires a user namespace",
  );
  assertProblem(
    config({ "linux.namespaces": withUser }),
    "linux.uidMappings",
    "required when creating",
  );
  assertProblem(
    config({ "linux.namespaces": withUser, "linux.uidMappings": map }),
    "linux.gidMappings",
  );
  const spec = validateConfig(
    config({ "linux.namespaces": withUser, "linux.uidMappings": map, "linux.gidMappings": map }),
  );
  assert.deepEqual(spec.linux?.uidMappings, map);
  const joined = [{ type: "user", path: "/proc/1/ns/user" }];
  validateConfig(config({ "linux.namespaces": joined, hostname: DELETE }));
});

Deno.test("id mapping fields are non-negative integers with size >= 1", () => {
  const withUser = [{ type: "user" }];
  const bad = (mapping: Json) =>
    config({
      hostname: DELETE,
      "linux.namespaces": withUser,
      "linux.uidMappings": [mapping],
      "linux.gidMappings": [{ containerID: 0, hostID: 1, size: 1 }],
    });
  assertProblem(bad({ containerID: 0, hostID: 1, size: 0 }), "linux.uidMappings[0].size");
  assertProblem(bad({ containerID: -1, hostID: 1, size: 1 }), "linux.uidMappings[0].containerID");
  assertProblem(bad({ containerID: 0, hostID: "1", size: 1 }), "linux.uidMappings[0].hostID");
  assertProblem(bad({ containerID: 0, hostID: 2 ** 32 - 1, size: 2 }), "linux.uidMappings[0].size");
});

// --- linux: sysctl, paths, propagation, cgroups -----------------------------------------

Deno.test("sysctl: string values, namespaced keys only", () => {
  const sysctl = (value: unknown) => config({ "linux.sysctl": value });
  assertProblem(
    sysctl({ "net.ipv4.ip_forward": 1 }),
    'linux.sysctl["net.ipv4.ip_forward"]',
    "string",
  );
  assertProblem(sysctl({ "": "1" }), 'linux.sysctl[""]', "non-empty");
  assertProblem(sysctl({ "vm.swappiness": "10" }), 'linux.sysctl["vm.swappiness"]', "host");
  assertProblem(sysctl({ "net/../../x": "1" }), 'linux.sysctl["net/../../x"]', "not a valid");
  assertProblem(sysctl("x"), "linux.sysctl", "must be an object");
  const noNet = config({
    "linux.namespaces": [{ type: "uts" }],
    "linux.sysctl": { "net.core.x": "1" },
  });
  assertProblem(noNet, 'linux.sysctl["net.core.x"]', "requires a network namespace");
  const ok = { "net.ipv4.ip_forward": "1", "kernel.shmmax": "1", "fs.mqueue.msg_max": "10" };
  assert.deepEqual(validateConfig(sysctl(ok)).linux?.sysctl, ok);
});

Deno.test("maskedPaths and readonlyPaths are absolute", () => {
  assertProblem(
    config({ "linux.maskedPaths": ["/ok", "proc/kcore"] }),
    "linux.maskedPaths[1]",
    "absolute",
  );
  assertProblem(config({ "linux.readonlyPaths": [1] }), "linux.readonlyPaths[0]", "string");
  assertProblem(config({ "linux.readonlyPaths": "/proc" }), "linux.readonlyPaths", "array");
});

Deno.test("rootfsPropagation is a known mode", () => {
  assertProblem(
    config({ "linux.rootfsPropagation": "bogus" }),
    "linux.rootfsPropagation",
    "one of",
  );
  for (
    const mode of [
      "private",
      "rprivate",
      "slave",
      "rslave",
      "shared",
      "rshared",
      "unbindable",
      "runbindable",
    ]
  ) {
    assert.equal(
      validateConfig(config({ "linux.rootfsPropagation": mode })).linux?.rootfsPropagation,
      mode,
    );
  }
});

Deno.test("cgroupsPath is a string without .. components", () => {
  assertProblem(config({ "linux.cgroupsPath": 5 }), "linux.cgroupsPath", "must be a string");
  assertProblem(config({ "linux.cgroupsPath": "../escape" }), "linux.cgroupsPath", '".."');
  assertProblem(config({ "linux.cgroupsPath": "a/../../b" }), "linux.cgroupsPath", '".."');
  assert.equal(
    validateConfig(config({ "linux.cgroupsPath": "cell/web" })).linux?.cgroupsPath,
    "cell/web",
  );
  assert.equal(
    validateConfig(config({ "linux.cgroupsPath": "/cell/web" })).linux?.cgroupsPath,
    "/cell/web",
  );
});

Deno.test("unimplemented linux fields are errors; personality is checked", () => {
  const persona = validateConfig(config({ "linux.personality": { domain: "LINUX32" } }));
  assert.deepEqual(persona.linux?.personality, { domain: "LINUX32" });
  assertProblem(config({ "linux.personality": { domain: "BSD" } }), "linux.personality.domain");
  assertProblem(
    config({ "linux.personality": { domain: "LINUX", flags: ["x"] } }),
    "linux.personality.flags",
    "not supported",
  );
  const policy = validateConfig(
    config({
      "linux.memoryPolicy": { mode: "MPOL_BIND", nodes: "0", flags: ["MPOL_F_STATIC_NODES"] },
    }),
  );
  assert.deepEqual(policy.linux?.memoryPolicy, {
    mode: "MPOL_BIND",
    nodes: "0",
    flags: ["MPOL_F_STATIC_NODES"],
  });
  assertProblem(
    config({ "linux.memoryPolicy": { mode: "MPOL_BIND" } }),
    "linux.memoryPolicy.nodes",
    "required",
  );
  assertProblem(
    config({ "linux.memoryPolicy": { mode: "MPOL_LOCAL", nodes: "0" } }),
    "linux.memoryPolicy.nodes",
    "must be empty",
  );
  assertProblem(
    config({
      "linux.memoryPolicy": {
        mode: "MPOL_INTERLEAVE",
        nodes: "0",
        flags: ["MPOL_F_STATIC_NODES", "MPOL_F_RELATIVE_NODES"],
      },
    }),
    "linux.memoryPolicy.flags",
    "exclude each other",
  );
});

Deno.test("linux.timeOffsets: only with a new time namespace, only monotonic and boottime", () => {
  const time = (namespace: Json, offsets: unknown) =>
    config({ "linux.namespaces": [namespace], "linux.timeOffsets": offsets, hostname: DELETE });
  const spec = validateConfig(time({ type: "time" }, {
    monotonic: { secs: 86400 },
    boottime: { secs: -5, nanosecs: 999_999_999 },
  }));
  assert.deepEqual(spec.linux?.timeOffsets, {
    monotonic: { secs: 86400, nanosecs: 0 },
    boottime: { secs: -5, nanosecs: 999_999_999 },
  });
  assert.deepEqual(spec.linux?.namespaces, [{ type: "time" }]);
  // A time namespace alone, made or joined, is fine.
  validateConfig(
    config({ "linux.namespaces": [{ type: "time", path: "/proc/1/ns/time" }], hostname: DELETE }),
  );
  assertProblem(
    config({ "linux.timeOffsets": { monotonic: { secs: 1 } } }),
    "linux.timeOffsets",
    "requires a new time namespace",
  );
  assertProblem(
    time({ type: "time", path: "/proc/1/ns/time" }, { boottime: { secs: 1 } }),
    "linux.timeOffsets",
    "joined time namespace",
  );
  assertProblem(
    time({ type: "time" }, { realtime: { secs: 1 } }),
    "linux.timeOffsets.realtime",
    "unknown clock",
  );
  assertProblem(
    time({ type: "time" }, { boottime: { nanosecs: 1_000_000_000 } }),
    "linux.timeOffsets.boottime.nanosecs",
  );
  assertProblem(
    time({ type: "time" }, { boottime: { secs: 1.5 } }),
    "linux.timeOffsets.boottime.secs",
  );
  assertProblem(
    time({ type: "time" }, { monotonic: { secs: 2 ** 40 } }),
    "linux.timeOffsets.monotonic.secs",
  );
  assertProblem(time({ type: "time" }, { monotonic: 3 }), "linux.timeOffsets.monotonic");
  assertProblem(
    time({ type: "time" }, "x"),
    "linux.timeOffsets",
  );
});

Deno.test("linux.mountLabel: ignored without SELinux (nothing to label), refused with it", () => {
  const label = { "linux.mountLabel": "system_u:object_r:svirt_sandbox_file_t:s0" };
  if (lsmEnabled("SELinux")) assertProblem(config(label), "linux.mountLabel", "not applied");
  else validateConfig(config(label));
  assertProblem(config({ "linux.mountLabel": 3 }), "linux.mountLabel");
});

// --- linux: devices and resources -------------------------------------------------------

Deno.test("linux.devices: type, absolute path, numbers for c/b/u", () => {
  const dev = (device: Json) => config({ "linux.devices": [device] });
  assertProblem(dev({ type: "x", path: "/dev/x", major: 1, minor: 1 }), "linux.devices[0].type");
  assertProblem(
    dev({ type: "c", path: "dev/x", major: 1, minor: 1 }),
    "linux.devices[0].path",
    "absolute",
  );
  assertProblem(dev({ type: "c", path: "/dev/x", minor: 1 }), "linux.devices[0].major", "required");
  assertProblem(dev({ type: "b", path: "/dev/x", major: 1 }), "linux.devices[0].minor", "required");
  assertProblem(dev({ type: "u", path: "/dev/x", major: -1, minor: 0 }), "linux.devices[0].major");
  assertProblem(
    dev({ type: "c", path: "/dev/x", major: 1, minor: 3, fileMode: "0666" }),
    "linux.devices[0].fileMode",
  );
  assertProblem(
    dev({ type: "c", path: "/dev/x", major: 1, minor: 3, uid: -1 }),
    "linux.devices[0].uid",
  );
  const fifo = { type: "p", path: "/dev/fifo" };
  assert.deepEqual(validateConfig(dev(fifo)).linux?.devices, [fifo]);
  const full = {
    type: "c",
    path: "/dev/null",
    major: 1,
    minor: 3,
    fileMode: 0o666,
    uid: 0,
    gid: 0,
  };
  assert.deepEqual(validateConfig(dev(full)).linux?.devices, [full]);
});

Deno.test("linux.resources: ranges, syntax and unsupported controllers", () => {
  const rdma = (value: unknown) => config({ "linux.resources.rdma": value });
  assertProblem(rdma({ x: 1 }), "linux.resources.rdma.x", "must be an object");
  assertProblem(rdma({ mlx5_0: {} }), "linux.resources.rdma.mlx5_0", "needs hcaHandles");
  assertProblem(rdma({ "a b": { hcaHandles: 1 } }), 'linux.resources.rdma["a b"]', "device name");
  assertProblem(
    rdma({ mlx5_0: { hcaObjects: 2 ** 31 } }),
    "linux.resources.rdma.mlx5_0.hcaObjects",
    "from 0 to 2147483647",
  );
  assertProblem(rdma({ mlx5_0: { hcaHandles: -1 } }), "linux.resources.rdma.mlx5_0.hcaHandles");
  assert.deepEqual(
    validateConfig(rdma({ mlx5_1: { hcaHandles: 3, hcaObjects: 10000 }, rxe3: { hcaObjects: 0 } }))
      .linux?.resources?.rdma,
    { mlx5_1: { hcaHandles: 3, hcaObjects: 10000 }, rxe3: { hcaObjects: 0 } },
  );
  const r = (key: string, value: unknown) => config({ [`linux.resources.${key}`]: value });
  assertProblem(r("network", { classID: 2 ** 32 }), "linux.resources.network.classID");
  assertProblem(
    r("network", { priorities: [{ name: "eth0", priority: -1 }] }),
    "linux.resources.network.priorities[0].priority",
  );
  assertProblem(r("memory", { limit: -5 }), "linux.resources.memory.limit", "-1 (unlimited)");
  assertProblem(r("memory", { limit: 100 }), "linux.resources.memory.limit", "from 4096");
  assertProblem(
    r("memory", { limit: 2 ** 30, swap: 2 ** 20 }),
    "linux.resources.memory.swap",
    "at least limit",
  );
  assertProblem(r("memory", { swappiness: 101 }), "linux.resources.memory.swappiness");
  assertProblem(r("memory", { kernel: 1 }), "linux.resources.memory.kernel", "not supported");
  assertProblem(r("cpu", { shares: 1 }), "linux.resources.cpu.shares");
  assertProblem(r("cpu", { period: 10 }), "linux.resources.cpu.period");
  assertProblem(r("cpu", { quota: 5 }), "linux.resources.cpu.quota");
  assertProblem(r("cpu", { cpus: "0-a" }), "linux.resources.cpu.cpus", "list");
  assertProblem(r("pids", { limit: -7 }), "linux.resources.pids.limit");
  assertProblem(r("blockIO", { weight: 5 }), "linux.resources.blockIO.weight");
  assertProblem(
    r("blockIO", { throttleReadBpsDevice: [{ major: 8, minor: 0, rate: -1 }] }),
    "linux.resources.blockIO.throttleReadBpsDevice[0].rate",
  );
  assertProblem(
    r("hugepageLimits", [{ pageSize: "2XB", limit: 1 }]),
    "linux.resources.hugepageLimits[0].pageSize",
  );
  assertProblem(r("unified", { "../etc/passwd": "x" }), `linux.resources.unified["../etc/passwd"]`);
  const ok = validateConfig(config({
    "linux.resources.memory": { limit: 1 << 26, swap: -1, swappiness: 10 },
    "linux.resources.cpu": { shares: 512, quota: 20000, period: 100000, cpus: "0", mems: "0" },
    "linux.resources.pids": { limit: 0 },
    "linux.resources.unified": { "memory.high": "64M" },
  }));
  assert.deepEqual(ok.linux?.resources?.pids, { limit: 0 }, "0 is a real limit (runtime-spec 1.3)");
  const noLimit = validateConfig(config({ "linux.resources.pids": {} }));
  assert.deepEqual(noLimit.linux?.resources?.pids, {}, "limit is optional: nothing written");
  assert.equal(ok.linux?.resources?.cpu?.cpus, "0");
  const rule = (r: Json) => config({ "linux.resources.devices": [r] });
  assertProblem(rule({ access: "rwm" }), "linux.resources.devices[0].allow", "required");
  assertProblem(rule({ allow: "no" }), "linux.resources.devices[0].allow", "boolean");
  assertProblem(rule({ allow: true, type: "z" }), "linux.resources.devices[0].type");
  assertProblem(rule({ allow: true, major: -2 }), "linux.resources.devices[0].major");
  assertProblem(rule({ allow: true, minor: 1.5 }), "linux.resources.devices[0].minor");
  assertProblem(rule({ allow: true, access: "rwx" }), "linux.resources.devices[0].access");
  assertProblem(rule({ allow: true, access: "rr" }), "linux.resources.devices[0].access");
  assertProblem(config({ "linux.resources": 1 }), "linux.resources", "must be an object");
});

// --- several problems -------------------------------------------------------------------

Deno.test("every problem is reported, one per line", () => {
  const lines = problems(
    config({
      ociVersion: "2.0.0",
      "process.args": [],
      "process.cwd": "rel",
      "process.terminal": "yes",
      mounts: [{ destination: "x" }],
      "linux.namespaces": [{ type: "pid" }, { type: "mount" }, { type: "foo" }],
      "linux.seccomp": { defaultAction: "SCMP_ACT_NOPE" },
    }),
  );
  for (
    const expected of [
      "ociVersion: unsupported major version 2 (cell supports 1.x)",
      "process.args: must be a non-empty array of strings",
      "process.cwd: must be an absolute path",
      "process.terminal: must be a boolean",
      "mounts[0].destination: must be an absolute path",
      'linux.namespaces[2].type: unknown namespace "foo"',
      'linux.seccomp.defaultAction: unknown action "SCMP_ACT_NOPE"',
      "hostname: requires a uts namespace",
    ]
  ) {
    assert.ok(lines.includes(expected), `missing "${expected}" in:\n${lines.join("\n")}`);
  }
  assert.equal(lines.length, 8);
});

// --- generated inputs -------------------------------------------------------------------

/** A small seeded PRNG (mulberry32), so failures reproduce. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ODD_VALUES: unknown[] = [
  null,
  0,
  -1,
  1.5,
  2 ** 53,
  "",
  "x",
  "/",
  "..",
  "/../x",
  true,
  false,
  [],
  {},
  [null],
  { type: "pid" },
  ["ro"],
  "__proto__",
];

/** Every object or array inside `value` (including itself). */
function containers(value: unknown, out: (Json | unknown[])[] = []): (Json | unknown[])[] {
  if (typeof value === "object" && value !== null) {
    out.push(value as Json | unknown[]);
    for (const child of Object.values(value)) containers(child, out);
  }
  return out;
}

function mutate(input: unknown, random: () => number): unknown {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)];
  if (random() < 0.05) return structuredClone(pick(ODD_VALUES));
  const root = input;
  const rounds = 1 + Math.floor(random() * 4);
  for (let i = 0; i < rounds; i++) {
    const target = pick(containers(root));
    const keys = Object.keys(target);
    const op = random();
    if (keys.length > 0 && op < 0.3) {
      const key = pick(keys);
      if (Array.isArray(target)) target.splice(Number(key), 1);
      else delete target[key];
    } else if (keys.length > 0 && op < 0.8) {
      const key = pick(keys);
      (target as Json)[key] = structuredClone(pick(ODD_VALUES));
    } else if (Array.isArray(target)) {
      target.push(structuredClone(pick(ODD_VALUES)));
    } else {
      const key = pick(["type", "path", "options", "destination", "extra", "memory", "terminal"]);
      target[key] = structuredClone(pick(ODD_VALUES));
    }
  }
  return root;
}

Deno.test("generated inputs: validateConfig returns or throws ConfigInvalid, nothing else", () => {
  const random = prng(0xce11);
  const starts = [
    () => base(),
    () => minimal(),
    () => JSON.parse(JSON.stringify(sandboxConfig({ args: ["sh"], hide: ["/x"] }))),
  ];
  let accepted = 0;
  let rejected = 0;
  for (let i = 0; i < 500; i++) {
    const input = mutate(starts[i % starts.length](), random);
    const before = JSON.stringify(input);
    try {
      const spec = validateConfig(deepFreeze(input), { bundle: "/bundle" });
      assert.equal(typeof spec.ociVersion, "string");
      accepted++;
    } catch (e) {
      assert.ok(e instanceof ContainerError, `case ${i}: ${e}\ninput: ${before}`);
      assert.equal(e.code, "ConfigInvalid", `case ${i}`);
      assert.match(e.message, /^invalid container config:\n.+: .+/);
      rejected++;
    }
    assert.equal(JSON.stringify(input), before, `case ${i} mutated its input`);
  }
  assert.ok(accepted > 0 && rejected > 0, `accepted ${accepted}, rejected ${rejected}`);
});
