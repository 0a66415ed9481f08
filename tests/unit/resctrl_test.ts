/**
 * The resctrl plans for `linux.intelRdt` without resctrl (this host has none): which group,
 * made or joined, what is written to `schemata`, which `tasks` files each process joins,
 * what destroy removes, and the refusals; against a described resctrl tree. Also the
 * schemata comparison, the mountinfo lookup and the config's validation.
 */

import assert from "node:assert/strict";
import { ContainerError } from "../../src/errors.ts";
import { defaultConfig, validateConfig } from "../../src/config/mod.ts";
import type { IntelRdt } from "../../src/config/types.ts";
import type { PlanOp } from "../../src/plan/ops.ts";
import { planExec, planInit, resolveProcess } from "../../src/process/plan.ts";
import { resctrlMountIn } from "../../src/resctrl/mount.ts";
import { parseState, salvageState, serializeState } from "../../src/state/parse.ts";
import { planResctrl, type ResctrlView } from "../../src/resctrl/plan.ts";
import { parseSchemaLine, schemataMismatches } from "../../src/resctrl/schemata.ts";

const MOUNT = "/sys/fs/resctrl";

/** A resctrl tree: the paths that exist, and the text of the files read. */
function view(files: Record<string, string>, dirs: string[] = []): ResctrlView {
  // A file's directories exist too.
  const all = new Set<string>([MOUNT]);
  for (const path of [...Object.keys(files), ...dirs]) {
    const parts = path.split("/");
    parts.forEach((_, i) => all.add(`${MOUNT}/${parts.slice(0, i + 1).join("/")}`));
  }
  return {
    exists: (path) => all.has(path),
    read: (path) => files[path.slice(MOUNT.length + 1)],
  };
}

/** A host with L3 allocation, memory bandwidth allocation and monitoring. */
const HOST = {
  files: { "schemata": "    L3:0=7ff;1=7ff\n    MB:0=100;1=100\n", "tasks": "1\n2\n" },
  dirs: ["info", "info/L3", "info/MB", "info/L3_MON"],
};

function plan(rdt: IntelRdt, extra: Record<string, string> = {}, dirs: string[] = []) {
  return planResctrl(rdt, {
    id: "web",
    mount: MOUNT,
    view: view({ ...HOST.files, ...extra }, [...HOST.dirs, ...dirs]),
  });
}

function refused(fn: () => unknown, code: string, message: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ContainerError, `${e}`);
    assert.equal(e.code, code, e.message);
    assert.match(e.message, message);
    return true;
  });
}

Deno.test("resctrl plan: no closID makes <mount>/<id>, writes the lines in spec order, removes it", () => {
  const p = plan({
    schemata: ["L3:0=f0;1=f"],
    memBwSchema: "MB:0=20;1=70",
    l3CacheSchema: "L3:0=7f0;1=1f",
  });
  assert.deepEqual(p, {
    group: `${MOUNT}/web`,
    makeGroup: true,
    // l3CacheSchema first, memBwSchema, then schemata: the spec's order.
    schemata: "L3:0=7f0;1=1f\nMB:0=20;1=70\nL3:0=f0;1=f\n",
    monGroup: undefined,
    makeMonGroup: false,
    remove: [`${MOUNT}/web`],
    tasks: [`${MOUNT}/web/tasks`],
  });
  // Nothing to write: the group is made all the same (the spec: the id's directory).
  assert.equal(plan({}).schemata, undefined);
  assert.equal(plan({}).makeGroup, true);
});

Deno.test("resctrl plan: an existing <id> group cell did not make is joined as it is and never removed", () => {
  // The spec: a sub-directory the runtime has not created MUST NOT be removed; its schemata
  // are compared, not written.
  const existing = { "web/tasks": "", "web/schemata": "    MB:0=50;1=100\n" };
  assert.deepEqual(plan({ memBwSchema: "MB:0=50" }, existing), {
    group: `${MOUNT}/web`,
    makeGroup: false,
    schemata: undefined,
    monGroup: undefined,
    makeMonGroup: false,
    remove: [],
    tasks: [`${MOUNT}/web/tasks`],
  });
  // With tasks in it (someone else's), and with no schemata in the config: joined all the same.
  assert.deepEqual(plan({}, { ...existing, "web/tasks": "4242\n" }).remove, []);
  refused(
    () => plan({ memBwSchema: "MB:0=20" }, existing),
    "ConfigInvalid",
    /group \/sys\/fs\/resctrl\/web exists and its schemata do not hold "MB:0=20"/,
  );
  // Monitoring under it: the monitoring group is cell's, so only it goes.
  const monitored = plan({ enableMonitoring: true }, existing);
  assert.equal(monitored.makeMonGroup, true);
  assert.deepEqual(monitored.remove, [`${MOUNT}/web/mon_groups/web`]);
});

Deno.test("resctrl plan: a named closID is joined as it is, made when new, never removed", () => {
  const existing = {
    "gold/tasks": "7\n",
    "gold/schemata": "    L3:0=07f0;1=01f\n    MB:0=20;1=100\n",
  };
  // Joined: the same values, read back with leading zeros and indented, match; nothing written.
  const joined = plan(
    { closID: "gold", l3CacheSchema: "L3:0=7f0;1=1f", memBwSchema: "MB:0=20" },
    existing,
  );
  assert.deepEqual(joined, {
    group: `${MOUNT}/gold`,
    makeGroup: false,
    schemata: undefined,
    monGroup: undefined,
    makeMonGroup: false,
    remove: [],
    tasks: [`${MOUNT}/gold/tasks`],
  });
  // A pre-made group with no schemata in the config is simply joined.
  assert.deepEqual(plan({ closID: "gold" }, existing).tasks, [`${MOUNT}/gold/tasks`]);
  refused(
    () => plan({ closID: "gold", memBwSchema: "MB:0=30" }, existing),
    "ConfigInvalid",
    /group \/sys\/fs\/resctrl\/gold exists and its schemata do not hold "MB:0=30"/,
  );
  // New: made and written, but left on destroy (a named group is managed by someone else).
  const made = plan({ closID: "silver", schemata: ["MB:0=40"] });
  assert.equal(made.makeGroup, true);
  assert.equal(made.schemata, "MB:0=40\n");
  assert.deepEqual(made.remove, []);
  refused(
    () => plan({ closID: "bronze" }),
    "ConfigInvalid",
    /closID: there is no resctrl group \/sys\/fs\/resctrl\/bronze/,
  );
  // "/": the default group, the mount's root.
  const root = plan({ closID: "/" });
  assert.equal(root.group, MOUNT);
  assert.deepEqual(root.tasks, [`${MOUNT}/tasks`]);
  assert.deepEqual(root.remove, []);
});

Deno.test("resctrl plan: enableMonitoring adds mon_groups/<id>, joined after its group, always removed", () => {
  const p = plan({ enableMonitoring: true });
  assert.equal(p.monGroup, `${MOUNT}/web/mon_groups/web`);
  assert.equal(p.makeMonGroup, true);
  assert.deepEqual(p.tasks, [`${MOUNT}/web/tasks`, `${MOUNT}/web/mon_groups/web/tasks`]);
  assert.deepEqual(p.remove, [`${MOUNT}/web/mon_groups/web`, `${MOUNT}/web`]);
  const shared = plan({ closID: "gold", enableMonitoring: true }, { "gold/tasks": "" });
  assert.deepEqual(shared.remove, [`${MOUNT}/gold/mon_groups/web`], "the named group stays");
  refused(
    () =>
      plan({ closID: "gold", enableMonitoring: true }, { "gold/mon_groups/web/tasks": "9" }, [
        "gold",
      ]),
    "IdInUse",
    /monitoring group \/sys\/fs\/resctrl\/gold\/mon_groups\/web already exists/,
  );
  // Even an empty one: the spec asks for a dedicated group, made for the container.
  refused(
    () =>
      plan({ closID: "gold", enableMonitoring: true }, { "gold/mon_groups/web/tasks": "" }, [
        "gold",
      ]),
    "IdInUse",
    /mon_groups\/web already exists/,
  );
});

Deno.test("resctrl plan: a resource the host's resctrl lacks is refused by name", () => {
  const noMon = planResctrl.bind(null, { enableMonitoring: true }, {
    id: "web",
    mount: MOUNT,
    view: view(HOST.files, ["info", "info/L3"]),
  });
  refused(noMon, "ConfigInvalid", /enableMonitoring: this host's resctrl has no monitoring/);
  const noMb = () =>
    planResctrl({ memBwSchema: "MB:0=10" }, {
      id: "web",
      mount: MOUNT,
      view: view(HOST.files, ["info", "info/L3"]),
    });
  refused(noMb, "ConfigInvalid", /this host's resctrl has no MB resource/);
  refused(() => plan({ schemata: ["L2:0=f"] }), "ConfigInvalid", /no L2 resource/);
});

Deno.test("schemata lines: parsed and compared as the kernel reads them back", () => {
  assert.deepEqual(parseSchemaLine("  L3:0=7f0; 1=1f"), {
    resource: "L3",
    domains: new Map([["0", "7f0"], ["1", "1f"]]),
  });
  assert.equal(parseSchemaLine("L3"), undefined);
  assert.equal(parseSchemaLine("L3:0"), undefined);
  const current = "    L3:0=007F0;1=1f\n    MB:0=20;1=70\n";
  assert.deepEqual(schemataMismatches(["L3:0=7f0", "MB:1=70"], current), []);
  assert.deepEqual(schemataMismatches(["L3:0=ff", "MB:2=10", "L2:0=f"], current), [
    "L3:0=ff",
    "MB:2=10",
    "L2:0=f",
  ]);
});

Deno.test("resctrl mount: found in mountinfo by file system type, escapes undone", () => {
  const info = [
    "22 1 0:21 / /sys rw,nosuid - sysfs sysfs rw",
    "40 22 0:35 / /mnt/rdt\\040dir rw,relatime - resctrl resctrl rw",
  ].join("\n");
  assert.equal(resctrlMountIn(info), "/mnt/rdt dir");
  assert.equal(resctrlMountIn(info.split("\n")[0]), undefined);
});

Deno.test("linux.intelRdt: validated field by field", () => {
  const check = (rdt: unknown) => {
    try {
      const spec = JSON.parse(JSON.stringify(defaultConfig({ rootfs: "rootfs" })));
      spec.linux.intelRdt = rdt;
      return validateConfig(spec).linux?.intelRdt;
    } catch (e) {
      return (e as Error).message;
    }
  };
  assert.deepEqual(
    check({
      closID: "gold",
      l3CacheSchema: "L3:0=f",
      memBwSchema: "MB:0=20",
      schemata: ["L2:0=3"],
      enableMonitoring: true,
    }),
    {
      closID: "gold",
      l3CacheSchema: "L3:0=f",
      memBwSchema: "MB:0=20",
      schemata: ["L2:0=3"],
      enableMonitoring: true,
    },
  );
  assert.deepEqual(check({ closID: "" }), {}, '"" is no closID');
  assert.deepEqual(check({ closID: "/" }), { closID: "/" });
  for (const closID of [".", "..", "a/b", "/a"]) {
    assert.match(String(check({ closID })), /linux\.intelRdt\.closID: must be one directory name/);
  }
  assert.match(
    String(check({ memBwSchema: "L3:0=f" })),
    /memBwSchema: must be one schemata line starting with "MB:"/,
  );
  assert.match(String(check({ l3CacheSchema: "MB:0=1" })), /l3CacheSchema: must be one/);
  assert.match(
    String(check({ l3CacheSchema: "L3:0=f\nMB:0=1" })),
    /l3CacheSchema: must be one schemata line/,
  );
  assert.match(
    String(check({ schemata: ["L3:0=f", "x"] })),
    /schemata\[1\]: must be one schemata line/,
  );
  assert.match(String(check({ enableMonitoring: "yes" })), /enableMonitoring/);
  assert.match(String(check({ enableCMT: true })), /enableCMT: replaced by enableMonitoring/);
});

Deno.test("resctrl tasks: the parent writes the pid to them after the cgroups, for the init and an exec", () => {
  const spec = defaultConfig({ rootfs: "/bundle/rootfs", args: ["true"] });
  const host = { root: true, lastCap: 40, fileSources: [], pseudoFilesystems: [] };
  const tasks = [`${MOUNT}/web/tasks`, `${MOUNT}/web/mon_groups/web/tasks`];
  const joins = (ops: PlanOp[]) =>
    ops.filter((op) => op.op === "cgroupProcs").map((op) => [op.what, op.file]);
  const procs = "/sys/fs/cgroup/memory/cell/web/cgroup.procs";
  const expected = [
    [`join the cgroup ${procs}`, procs],
    [`join the resctrl group of ${tasks[0]}`, tasks[0]],
    [`join the resctrl group of ${tasks[1]}`, tasks[1]],
  ];
  const init = planInit(spec, {
    process: resolveProcess(spec, {}),
    stdio: [-1, -1, -1],
    extraFds: [],
    cgroupProcs: [procs],
    resctrlTasks: tasks,
    cgroupPaths: {},
    cgroupMode: "v1",
  }, host);
  assert.deepEqual(joins(init), expected);
  const exec = planExec(spec, {
    initPid: 4242,
    process: resolveProcess(spec, { args: ["sh"] }),
    stdio: [-1, -1, -1],
    extraFds: [],
    cgroupProcs: [procs],
    resctrlTasks: tasks,
  }, host);
  assert.deepEqual(joins(exec), expected);
});

Deno.test("state: the resctrl record is written before the config, so a cut file still names it", () => {
  const resctrl = { remove: [`${MOUNT}/web`], tasks: [`${MOUNT}/web/tasks`] };
  const state = {
    version: 1 as const,
    id: "web",
    config: defaultConfig({ rootfs: "/r" }),
    created: "2026-12-05T00:00:00Z",
    init: null,
    cgroup: { mode: "v2" as const, paths: {}, roots: {}, created: [] },
    resctrl,
  };
  const text = serializeState(state);
  assert.ok(text.indexOf('"resctrl"') < text.indexOf('"config"'));
  assert.deepEqual(parseState(text, "web", "state.json").resctrl, resctrl);
  assert.deepEqual(salvageState(text.slice(0, text.indexOf('"config"') + 20)).resctrl, resctrl);
  const bad = text.replace(`"remove":["${MOUNT}/web"]`, '"remove":"x"');
  assert.throws(() => parseState(bad, "web", "state.json"), /the field "resctrl" is invalid/);
});
