/**
 * Golden tests of whole plans: for each config, the full list of ops `planInit` or
 * `planExec` makes, compared with `golden/<name>.jsonl` (JSON, one op a line). The host facts are
 * given here, and every test runs with no permission at all: planning reads nothing.
 * After a deliberate change of a plan, rewrite the files with
 * `deno test --allow-read --allow-write tests/unit/plan_golden_test.ts -- --update` and
 * read the diff.
 */

import assert from "node:assert/strict";
import { defaultConfig, sandboxConfig, type Spec } from "../../src/config/mod.ts";
import { toRootless } from "../../src/config/rootless_spec.ts";
import type { HostFacts } from "../../src/plan/host_facts.ts";
import type { PlanOp } from "../../src/plan/ops.ts";
import {
  type InitPlanOptions,
  planExec,
  planInit,
  resolveProcess,
} from "../../src/process/plan.ts";
import type { InitHooks } from "../../src/process/plan_hooks.ts";
import { MS } from "../../src/rootfs/mount_flags.ts";

const GOLDEN = new URL("./golden/", import.meta.url);
const UPDATE = Deno.args.includes("--update");

/** A host where the runtime is root, with nothing unusual. */
const ROOT: HostFacts = { root: true, lastCap: 40, fileSources: [], pseudoFilesystems: [] };

/** A seccomp filter of one instruction (`SECCOMP_RET_ALLOW`), as if compiled. */
const ALLOW_ALL = { flags: 0, program: new Uint8Array([6, 0, 0, 0, 0, 0, 0xff, 0x7f]) };

const V1_PATHS = {
  "cpu,cpuacct": "/sys/fs/cgroup/cpu,cpuacct/cell/golden",
  memory: "/sys/fs/cgroup/memory/cell/golden",
  "name=systemd": "/sys/fs/cgroup/systemd/cell/golden",
  unified: "/sys/fs/cgroup/unified/cell/golden",
};

function config(change?: (spec: Spec) => void): Spec {
  const spec = defaultConfig({ rootfs: "/bundle/rootfs", args: ["true"] });
  change?.(spec);
  return spec;
}

/** planInit of `spec` with a v1 init's usual options, as the container passes them. */
function init(spec: Spec, host: HostFacts, options: Partial<InitPlanOptions> = {}): PlanOp[] {
  return planInit(spec, {
    process: resolveProcess(spec, {}),
    stdio: [-1, -1, -1],
    extraFds: [],
    cgroupProcs: Object.values(V1_PATHS).map((dir) => `${dir}/cgroup.procs`),
    awaitFd: 9,
    cgroupPaths: V1_PATHS,
    cgroupMode: "v1",
    ...options,
  }, host);
}

function userns(spec: Spec): void {
  spec.linux!.namespaces!.push({ type: "user" });
  spec.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  spec.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
}

const DIRECT_MAPS = {
  uid: { kind: "direct", content: "0 100000 65536\n" },
  gid: { kind: "direct", content: "0 100000 65536\n" },
  denySetgroups: false,
} as const;

const HOOKS: InitHooks = {
  pause: { notify: 13, resume: 14 },
  createContainer: [{ path: "/usr/bin/setup", args: ["setup", "--net"], env: ["A=1"], timeout: 5 }],
  startContainer: [{ path: "/usr/bin/announce" }],
  report: 15,
  state: { ociVersion: "1.2.0", id: "golden", bundle: "/bundle", annotations: { k: "v" } },
};

/** Each golden plan: its file name and how it is made. */
const CASES: Record<string, () => PlanOp[]> = {
  default: () => init(config(), ROOT),
  rootless: () =>
    init(toRootless(config(), { uid: 1000, gid: 1000 }), {
      ...ROOT,
      root: false,
      idMaps: {
        uid: { kind: "direct", content: "0 1000 1\n" },
        gid: { kind: "direct", content: "0 1000 1\n" },
        denySetgroups: true,
      },
    }, { cgroupProcs: [], awaitFd: undefined, cgroupPaths: {} }),
  userns_helpers: () =>
    init(config(userns), {
      ...ROOT,
      root: false,
      idMaps: {
        uid: { kind: "helper", helper: "/usr/bin/newuidmap", ranges: "0 100000 65536" },
        gid: { kind: "helper", helper: "/usr/bin/newgidmap", ranges: "0 100000 65536" },
        denySetgroups: false,
      },
    }),
  // As root in a user namespace: bind sources opened by the parent, devices bound.
  userns_binds_devices: () =>
    init(
      config((spec) => {
        userns(spec);
        spec.mounts!.push(
          {
            destination: "/etc/hosts",
            type: "bind",
            source: "/etc/hosts",
            options: ["rbind", "ro"],
          },
          { destination: "/data", source: "/srv/data", options: ["bind", "nosuid", "rro"] },
          { destination: "/rel", type: "bind", source: "relative", options: ["rbind"] },
        );
        spec.linux!.devices = [{ type: "c", path: "/dev/fuse", major: 10, minor: 229 }];
      }),
      { ...ROOT, idMaps: DIRECT_MAPS, fileSources: ["/etc/hosts"] },
    ),
  // Id-mapped binds in a user namespace: the parent sends the mapped trees among the plain
  // bind sources, in plan order; a ridmap rbind, an idmap bind with flags after the move.
  idmap_mounts: () =>
    init(
      config((spec) => {
        userns(spec);
        const maps = (hostID: number) => [{ containerID: 0, hostID, size: 65536 }];
        spec.mounts!.push(
          {
            destination: "/vol",
            type: "bind",
            source: "/srv/vol",
            options: ["rbind", "ridmap", "ro"],
            uidMappings: maps(100000),
            gidMappings: maps(100000),
          },
          { destination: "/plain", type: "bind", source: "/srv/plain", options: ["rbind"] },
          {
            destination: "/one",
            type: "bind",
            source: "/srv/one",
            options: ["bind", "idmap", "nosuid"],
            uidMappings: [{ containerID: 1000, hostID: 0, size: 1 }],
            gidMappings: maps(200000),
          },
        );
      }),
      { ...ROOT, idMaps: DIRECT_MAPS },
    ),
  no_pivot: () =>
    init(config(), {
      ...ROOT,
      pseudoFilesystems: ["/proc", "/sys", "/bundle/rootfs/proc", "/bundle/rootfs2/proc"],
    }, { noPivotRoot: true }),
  tmpcopyup: () =>
    init(
      config((spec) => {
        spec.root.readonly = false;
        spec.mounts!.push(
          {
            destination: "/etc",
            type: "tmpfs",
            source: "tmpfs",
            options: ["tmpcopyup", "ro", "rslave"],
          },
          { destination: "/run", type: "tmpfs", source: "tmpfs", options: ["ro", "mode=755"] },
        );
      }),
      ROOT,
    ),
  devices: () =>
    init(
      config((spec) => {
        spec.linux!.devices = [
          { type: "c", path: "/dev/fuse", major: 10, minor: 229, fileMode: 0o600, uid: 0, gid: 0 },
          { type: "b", path: "/dev/loop9", major: 7, minor: 9 },
        ];
        spec.linux!.rootfsPropagation = "shared";
      }),
      ROOT,
    ),
  host_view: () =>
    init(sandboxConfig({ args: ["ls"], hide: ["/usr/bin/deno"] }), ROOT, {
      cgroupMode: "v2",
      cgroupPaths: { unified: "/sys/fs/cgroup/cell/golden" },
      cgroupProcs: [],
      awaitFd: undefined,
      cloneIntoCgroup: "/sys/fs/cgroup/cell/golden",
      ownMemory: true,
    }),
  cgroup_v2_no_cgroupns: () =>
    init(
      config((spec) => {
        spec.linux!.namespaces = spec.linux!.namespaces!.filter((n) => n.type !== "cgroup");
      }),
      ROOT,
      {
        cgroupMode: "v2",
        cgroupPaths: { unified: "/sys/fs/cgroup/cell/golden" },
        cgroupProcs: ["/sys/fs/cgroup/cell/golden/cgroup.procs"],
        awaitFd: undefined,
        cloneIntoCgroup: "/sys/fs/cgroup/cell/golden",
      },
    ),
  process: () => {
    const spec = config((spec) => {
      const p = spec.process!;
      p.rlimits = [{ type: "RLIMIT_CORE", soft: 0, hard: 0 }];
      p.user = { uid: 1000, gid: 1000, additionalGids: [10, 20], umask: 0o077 };
      p.capabilities = { ...p.capabilities, inheritable: ["CAP_KILL"], ambient: ["CAP_KILL"] };
      p.consoleSize = { height: 24, width: 80 };
      p.oomScoreAdj = 100;
      spec.domainname = "example.org";
      spec.linux!.sysctl = { "net.ipv4.ip_forward": "1" };
      spec.linux!.seccomp = { defaultAction: "SCMP_ACT_ALLOW" };
      spec.hooks = { createContainer: HOOKS.createContainer, startContainer: HOOKS.startContainer };
    });
    // The LSM labels are added after the validation, which asks the host for its LSMs.
    const process = {
      ...resolveProcess(spec, { consoleSocket: 6 }),
      apparmorProfile: "cell-default",
      selinuxLabel: "system_u:system_r:container_t:s0",
    };
    return planInit(spec, {
      process,
      stdio: [3, 4, 5],
      extraFds: [7, 8],
      cgroupProcs: [],
      cgroupPaths: {},
      cgroupMode: "v1",
      execFifo: 11,
      seccompListener: { socket: 12, pieces: ['{"pid":', "}"] },
      hooks: HOOKS,
    }, { ...ROOT, seccomp: ALLOW_ALL });
  },
  // A mount namespace not its own: the rootfs is only a chroot.
  joined_namespaces: () =>
    init(
      config((spec) => {
        spec.linux!.namespaces = spec.linux!.namespaces!
          .map((n) =>
            n.type === "mount" || n.type === "network" ? { ...n, path: `/run/ns/${n.type}` } : n
          );
      }),
      ROOT,
    ),
  // A new time namespace: never a clone flag, made by the first child with its offsets.
  time_namespace: () =>
    init(
      config((spec) => {
        userns(spec);
        spec.linux!.namespaces!.push({ type: "time" });
        spec.linux!.timeOffsets = {
          boottime: { secs: 86400, nanosecs: 0 },
          monotonic: { secs: -10, nanosecs: 5 },
        };
      }),
      { ...ROOT, idMaps: DIRECT_MAPS },
    ),
  // An exec joins the time namespace first, before the user namespace.
  exec_time: () => {
    const spec = config((spec) => {
      userns(spec);
      spec.linux!.namespaces!.push({ type: "time" });
    });
    return planExec(spec, {
      initPid: 4242,
      process: resolveProcess(spec, { args: ["sh"] }),
      stdio: [3, 4, 5],
      extraFds: [],
      cgroupProcs: [],
    }, ROOT);
  },
  exec: () => {
    const spec = config((spec) => userns(spec));
    return planExec(spec, {
      initPid: 4242,
      setgroupsDenied: true,
      process: resolveProcess(spec, { args: ["sh"], user: { uid: 0, gid: 0 } }),
      stdio: [3, 4, 5],
      extraFds: [],
      cgroupProcs: ["/sys/fs/cgroup/memory/cell/golden/cgroup.procs"],
      ownMemory: true,
    }, ROOT);
  },
};

const MS_NAMES = Object.entries(MS);

/** One op a line; mount(2) flags by name, modes in octal, other flags, masks and bytes in hex. */
function render(ops: readonly PlanOp[]): string {
  const lines = ops.map((op) =>
    JSON.stringify(op, (key, value) => {
      if (typeof value === "bigint") return `0x${value.toString(16)}`;
      if (value instanceof Uint8Array) {
        return [...value].map((b) => b.toString(16).padStart(2, "0")).join("");
      }
      if (key === "msFlags" && typeof value === "number") {
        const names = MS_NAMES.filter(([, bit]) => (value & bit) === bit).map(([name]) => name);
        return names.length > 0 ? names.join("|") : "0";
      }
      if ((key === "mode" || key === "mask") && typeof value === "number") {
        return `0o${value.toString(8)}`;
      }
      if ((key === "flags" || key === "nsType" || key === "magic") && typeof value === "number") {
        return `0x${value.toString(16)}`;
      }
      return value;
    })
  );
  return `${lines.join("\n")}\n`;
}

const expected = new Map<string, string>();
for (const [name, make] of Object.entries(CASES)) {
  const file = new URL(`${name}.jsonl`, GOLDEN);
  if (UPDATE) Deno.writeTextFileSync(file, render(make()));
  expected.set(name, Deno.readTextFileSync(file));
}

for (const [name, make] of Object.entries(CASES)) {
  Deno.test({
    name: `golden plan: ${name}`,
    permissions: "none",
    fn: () => assert.equal(render(make()), expected.get(name)),
  });
}

Deno.test({
  name: "a planner refuses host facts that lack what the spec needs",
  permissions: "none",
  fn: () => {
    assert.throws(() => init(config(userns), ROOT), /lack the id maps/);
    const seccomp = config((spec) => spec.linux!.seccomp = { defaultAction: "SCMP_ACT_ALLOW" });
    assert.throws(() => init(seccomp, ROOT), /lack the compiled seccomp filter/);
  },
});

Deno.test({
  name:
    "a new time namespace needs a root runtime (its first child makes it in our user namespace)",
  permissions: "none",
  fn: () => {
    const spec = config((spec) => {
      userns(spec);
      spec.linux!.namespaces!.push({ type: "time" });
    });
    assert.throws(
      () => init(spec, { ...ROOT, root: false, idMaps: DIRECT_MAPS }),
      /linux\.namespaces: a new time namespace needs cell to run as root/,
    );
  },
});

Deno.test({
  name: "planning leaves the spec as it was",
  permissions: "none",
  fn: () => {
    const spec = config((spec) => userns(spec));
    const before = structuredClone(spec);
    init(spec, { ...ROOT, idMaps: DIRECT_MAPS });
    assert.deepEqual(spec, before);
  },
});
