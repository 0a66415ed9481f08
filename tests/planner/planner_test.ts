/**
 * The front door and the resident planner (docs/architecture.md, "Three paths"): the first
 * call runs in-process and starts a planner; later calls are served by it with the same
 * output, exit codes, signals and fds, and the container is the calling `cell`'s child.
 * Concurrent calls, a planner killed mid-call, a stale socket, another uid, other namespaces,
 * other code, the off switch and the idle exit each have a test.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { bundle, emptyDir, installPrefix, stateRoot, uid } from "../support/cli.ts";
import { cgroupDirsOf, exists, until } from "../support/fixture.ts";
import {
  alive,
  childrenOf,
  door,
  parentOf,
  plannerGone,
  plannerServing,
  servedBy,
} from "../support/planner.ts";

const prefix = installPrefix();
/** Planners of these tests end after their last call (each test also stops its own); long
 * enough that a busy machine never lets one idle out between two calls of a test. */
const ENV = { CELL_PLANNER_IDLE_MS: "15000" };

/** The planner of `root` is asked to stop: its socket goes, so it exits within a second. */
async function stopPlanner(root: string, pid: number): Promise<void> {
  Deno.removeSync(join(root, "planner.sock"));
  await plannerGone(pid);
}

Deno.test("planner: the first call runs in-process and starts a planner, which serves the next", async () => {
  const p = await prefix;
  const root = await stateRoot();
  // The first call comes from a cgroup of its own, as a shim's or conmon's would.
  const hierarchy = exists("/sys/fs/cgroup/pids/cgroup.procs")
    ? "/sys/fs/cgroup/pids"
    : "/sys/fs/cgroup";
  const callers = `${hierarchy}/cell-test-planner-${Deno.pid}`;
  Deno.mkdirSync(callers);
  let pid: number;
  try {
    const log = `${await emptyDir()}/log`;
    const first = await new Deno.Command("sh", {
      args: [
        "-c",
        `echo $$ > ${callers}/cgroup.procs && exec ${p}/bin/cell --root ${root} --debug --log ${log} list -q`,
      ],
      env: ENV,
    }).output();
    assert.ok(first.success, new TextDecoder().decode(first.stderr));
    assert.equal(servedBy(log), "in-process");
    pid = await plannerServing(p, root, ENV);
    // It left the caller's cgroup for the hierarchy's root, so the caller's can go.
    const line = Deno.readTextFileSync(`/proc/${pid}/cgroup`).split("\n").find((l) =>
      hierarchy.endsWith("/pids") ? /^\d+:pids:/.test(l) : l.startsWith("0::")
    );
    assert.equal(line?.split(":")[2], "/", `the planner's cgroup: ${line}`);
  } finally {
    Deno.removeSync(callers);
  }
  const cmdline = Deno.readTextFileSync(`/proc/${pid}/cmdline`).split("\0");
  assert.ok(cmdline.includes("planner"), cmdline.join(" "));
  // Detached from the caller: a session of its own (whose leader went), no door's child.
  const session = (p: number | "self") =>
    Number(Deno.readTextFileSync(`/proc/${p}/stat`).split(") ")[1].split(" ")[3]);
  assert.notEqual(session(pid), session("self"), "the planner has a session of its own");
  assert.ok(!alive(session(pid)), "the session's leader (the door's first fork) is gone");
  assert.ok(
    !Deno.readTextFileSync(`/proc/${parentOf(pid)}/cmdline`).includes("bin/cell"),
    "no door is the planner's parent",
  );
  const sock = Deno.statSync(join(root, "planner.sock"));
  assert.equal(sock.mode! & 0o777, 0o600, "the socket is 0600");
  assert.equal(Deno.statSync(root).mode! & 0o777, 0o700, "the root is 0700");
  await stopPlanner(root, pid);
});

Deno.test("planner: run, create/start, exec, state and delete answer as in-process", async () => {
  const p = await prefix;
  const root = await stateRoot();
  const pid = await plannerServing(p, root, ENV);
  const dir = await bundle(["sh", "-c", "echo out; echo err >&2; exit 7"], (s) => {
    s.process!.terminal = false;
  });
  const ran = await door(p, root, ["run", "--bundle", dir, uid("pl-run")], { env: ENV });
  assert.equal(ran.servedBy, pid);
  assert.equal(ran.code, 7, ran.stderr);
  assert.equal(ran.stdout, "out\n");
  assert.match(ran.stderr, /^err$/m);

  const inProcess = await door(p, root, ["run", "--bundle", dir, uid("pl-run2")], {
    env: { ...ENV, CELL_PLANNER: "off" },
  });
  assert.equal(inProcess.servedBy, "in-process");
  assert.equal(inProcess.code, 7);
  assert.equal(inProcess.stdout, ran.stdout);

  // create with a relative --pid-file and --bundle: the caller's directory, not the planner's.
  const id = uid("pl-life");
  const sleeper = await bundle(["sleep", "30"]);
  const created = await door(p, root, ["create", "--bundle", ".", "--pid-file", "init.pid", id], {
    env: ENV,
    cwd: sleeper,
    detached: true,
  });
  assert.equal(created.code, 0, created.stderr);
  assert.equal(created.servedBy, pid);
  const init = Number(Deno.readTextFileSync(join(sleeper, "init.pid")));
  assert.ok(alive(init));
  const state = await door(p, root, ["state", id], { env: ENV });
  assert.equal(state.servedBy, pid);
  assert.equal(JSON.parse(state.stdout).status, "created");
  assert.equal(JSON.parse(state.stdout).pid, init);
  assert.equal((await door(p, root, ["start", id], { env: ENV, detached: true })).code, 0);
  const exec = await door(p, root, ["exec", id, "sh", "-c", "echo in; exit 3"], { env: ENV });
  assert.equal(exec.servedBy, pid);
  assert.equal(exec.code, 3, exec.stderr);
  assert.equal(exec.stdout, "in\n");
  // A path to one of the caller's own fds (`-p <(...)`, /dev/stdin) is the caller's fd.
  const viaFd = await door(p, root, ["exec", "--process", "/dev/stdin", id], {
    env: ENV,
    stdin: JSON.stringify({ args: ["sh", "-c", "echo from-fd; exit 4"], cwd: "/" }),
  });
  assert.equal(viaFd.servedBy, pid);
  assert.equal(viaFd.code, 4, viaFd.stderr);
  assert.equal(viaFd.stdout, "from-fd\n");
  const bad = await door(p, root, ["state", "nope"], { env: ENV });
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /container "nope" does not exist/);
  assert.equal((await door(p, root, ["delete", "--force", id], { env: ENV })).code, 0);
  assert.equal((await door(p, root, ["list", "-q"], { env: ENV })).stdout, "");
  await until("the init to be gone", () => !alive(init));
  await stopPlanner(root, pid);
});

Deno.test("planner: the caller clones the container, passes its fds and its signals", async () => {
  const p = await prefix;
  const root = await stateRoot();
  const pid = await plannerServing(p, root, ENV);
  const scratch = await emptyDir();
  const dir = await bundle([
    "sh",
    "-c",
    "echo from-fd3 >&3; trap 'exit 42' TERM; while :; do sleep 0.05; done",
  ], (s) => {
    s.process!.terminal = false;
  });
  const id = uid("pl-child");
  const out = await Deno.open(join(scratch, "fd3"), { write: true, create: true });
  // fd 3 of the door is the file (Deno's next fd is not 3, so a shell places it).
  const child = new Deno.Command("sh", {
    args: [
      "-c",
      `exec 3>>${scratch}/fd3; exec ${p}/bin/cell --root ${root} --debug --log ${scratch}/log run --preserve-fds 1 --bundle ${dir} ${id}`,
    ],
    env: ENV,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  out.close();
  try {
    await until("fd 3 written", () => Deno.readTextFileSync(join(scratch, "fd3")) === "from-fd3\n");
    const [init] = childrenOf(child.pid);
    assert.ok(init, "the door has a child");
    assert.equal(parentOf(init), child.pid, "the container's init is the calling cell's child");
    assert.notEqual(parentOf(init), pid);
    child.kill("SIGTERM");
    const status = await child.output();
    assert.equal(status.code, 42, new TextDecoder().decode(status.stderr));
    assert.match(Deno.readTextFileSync(join(scratch, "log")), new RegExp(`\\(planner ${pid}\\)`));
  } finally {
    try {
      child.kill("SIGKILL");
    } catch { /* ended */ }
  }
  assert.equal((await door(p, root, ["list", "-q"], { env: ENV })).stdout, "");
  await stopPlanner(root, pid);
});

Deno.test("planner: concurrent calls are each served, nothing left", async () => {
  const p = await prefix;
  const root = await stateRoot();
  const pid = await plannerServing(p, root, ENV);
  const dir = await bundle(["true"]);
  const ids = Array.from({ length: 8 }, (_, i) => uid(`pl-par${i}`));
  const results = await Promise.all(
    ids.map((id) => door(p, root, ["run", "--bundle", dir, id], { env: ENV })),
  );
  for (const r of results) {
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.servedBy, pid);
  }
  assert.equal((await door(p, root, ["list", "-q"], { env: ENV })).stdout, "");
  for (const id of ids) assert.deepEqual(cgroupDirsOf(id), [], `no cgroup of ${id}`);
  await stopPlanner(root, pid);
});

Deno.test("planner: killed mid-call, the caller fails clearly, kills its child, and delete --force leaves nothing", async () => {
  const p = await prefix;
  const root = await stateRoot();
  const pid = await plannerServing(p, root, ENV);
  const dir = await bundle(["sleep", "30"]);
  const id = uid("pl-kill");
  const child = new Deno.Command(join(p, "bin/cell"), {
    args: ["--root", root, "run", "--bundle", dir, id],
    env: ENV,
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(30_000),
  }).spawn();
  await until("the container to run", async () => {
    const s = await door(p, root, ["state", id], { env: ENV });
    return s.code === 0 && JSON.parse(s.stdout).status === "running";
  });
  const [init] = childrenOf(child.pid);
  Deno.kill(pid, "SIGKILL");
  const out = await child.output();
  assert.equal(out.code, 1);
  assert.match(new TextDecoder().decode(out.stderr), /the planner ended during this call/);
  await until("the init to be killed", () => !alive(init));
  const forced = await door(p, root, ["delete", "--force", id], { env: ENV });
  assert.equal(forced.code, 0, forced.stderr);
  assert.equal((await door(p, root, ["list", "-q"], { env: ENV })).stdout, "");
  assert.deepEqual(cgroupDirsOf(id), []);
  const next = await plannerServing(p, root, ENV);
  assert.notEqual(next, pid, "a new planner replaced the killed one");
  await stopPlanner(root, next);
});

Deno.test("planner: a stale socket is replaced; the off switches keep every call in-process", async () => {
  const p = await prefix;
  const root = await stateRoot();
  // A socket file nobody listens on (left by a planner killed before it could remove it).
  const made = await new Deno.Command("/usr/bin/python3", {
    args: [
      "-c",
      "import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])",
      join(root, "planner.sock"),
    ],
  }).output();
  assert.ok(made.success, new TextDecoder().decode(made.stderr));
  assert.ok(Deno.statSync(join(root, "planner.sock")).isSocket);
  const first = await door(p, root, ["list", "-q"], { env: ENV });
  assert.equal(first.code, 0, first.stderr);
  assert.equal(first.servedBy, "in-process");
  const pid = await plannerServing(p, root, ENV);
  await stopPlanner(root, pid);

  const off = await stateRoot();
  for (let i = 0; i < 3; i++) {
    const r = await door(p, off, ["list", "-q"], { env: { ...ENV, CELL_PLANNER: "off" } });
    assert.equal(r.servedBy, "in-process");
  }
  Deno.writeTextFileSync(join(off, "planner.off"), "");
  for (let i = 0; i < 3; i++) {
    const r = await door(p, off, ["list", "-q"], { env: ENV });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.servedBy, "in-process");
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.throws(() => Deno.statSync(join(off, "planner.sock")), "no planner was started");
});

Deno.test("planner: a door of other code retires the planner; another uid is sent back", async () => {
  const p = await prefix;
  const root = await stateRoot();
  const pid = await plannerServing(p, root, ENV);
  // A reinstall: other code, so another hash in both the door's file and the script.
  const hashFile = join(p, "lib/cell/cell.hash");
  const script = join(p, "lib/cell/cell-deno");
  const old = Deno.readTextFileSync(hashFile).trim();
  const other = "0".repeat(old.length);
  Deno.writeTextFileSync(hashFile, other + "\n");
  Deno.writeTextFileSync(script, Deno.readTextFileSync(script).replace(old, other));
  try {
    const r = await door(p, root, ["list", "-q"], { env: ENV });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.servedBy, "in-process", "the stale planner served nothing");
    await plannerGone(pid);
    const next = await plannerServing(p, root, ENV);
    assert.notEqual(next, pid);
    await stopPlanner(root, next);
  } finally {
    Deno.writeTextFileSync(hashFile, old + "\n");
    Deno.writeTextFileSync(script, Deno.readTextFileSync(script).replace(other, old));
  }

  // Another uid: the 0700 root keeps it from the socket; with the root opened up, the
  // planner itself sends it back (SO_PEERCRED).
  const shared = await stateRoot();
  const served = await plannerServing(p, shared, ENV);
  // A copy nobody can read, wherever the checkout is.
  const copies = await emptyDir();
  Deno.chmodSync(copies, 0o755);
  const client = join(copies, "planner_client.py");
  Deno.copyFileSync(new URL("../support/planner_client.py", import.meta.url).pathname, client);
  Deno.chmodSync(client, 0o644);
  const asNobody = (path: string) =>
    new Deno.Command("setpriv", {
      args: ["--reuid=65534", "--regid=65534", "--clear-groups", "/usr/bin/python3", client, path],
      stdout: "piped",
      stderr: "piped",
    }).output();
  const blocked = await asNobody(join(shared, "planner.sock"));
  assert.match(new TextDecoder().decode(blocked.stdout), /^connect: EACCES$/m);
  Deno.chmodSync(shared, 0o755);
  Deno.chmodSync(join(shared, "planner.sock"), 0o666);
  try {
    const sent = await asNobody(join(shared, "planner.sock"));
    assert.match(new TextDecoder().decode(sent.stdout), /FALLBACK this planner serves another uid/);
  } finally {
    Deno.chmodSync(shared, 0o700);
  }
  await stopPlanner(shared, served);
});

Deno.test("planner: a call from other namespaces is sent back and runs in-process", async () => {
  const p = await prefix;
  const root = await stateRoot();
  const pid = await plannerServing(p, root, ENV);
  try {
    // The planner would plan in its own namespaces: host paths, netDevices, pids.
    for (const under of [["unshare", "-n"], ["unshare", "-m"], ["unshare", "-p", "-f"]]) {
      const r = await door(p, root, ["list", "-q"], { env: ENV, under });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.servedBy, "in-process", `a call under ${under.join(" ")}`);
    }
    const home = await door(p, root, ["list", "-q"], { env: ENV });
    assert.equal(home.code, 0, home.stderr);
    assert.equal(home.servedBy, pid, "a call from the planner's namespaces is its own");
  } finally {
    await stopPlanner(root, pid);
  }
});

Deno.test("planner: it exits after its idle time and removes its socket", async () => {
  const p = await prefix;
  const root = await stateRoot();
  const pid = await plannerServing(p, root, { CELL_PLANNER_IDLE_MS: "400" });
  await plannerGone(pid, 10_000);
  assert.throws(() => Deno.statSync(join(root, "planner.sock")), "the socket is removed");
});

Deno.test("planner: as the last child of the subreaper that adopted it, it leaves soon after its last call", async () => {
  const p = await prefix;
  const script = new URL("../support/subreaper.ts", import.meta.url).pathname;
  // An engine's conmon (a subreaper) waits for every child: a planner it adopted must not hold
  // it for the whole idle minute. With another child (its container) there, it stays.
  for (const keep of ["no", "yes"]) {
    const root = await stateRoot();
    const reaper = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", script, keep, `${p}/bin/cell`, "--root", root, "list", "-q"],
      env: { CELL_PLANNER_IDLE_MS: "60000" },
      stdin: "null",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    try {
      const reader = reaper.stdout.getReader();
      const first = JSON.parse(new TextDecoder().decode((await reader.read()).value));
      reader.releaseLock();
      assert.equal(first.code, 0, first.stderr);
      // The planner the subreaper's call started, once it is its child: a call of ours before
      // it serves would start a second planner (init's child) on a slow, fresh machine.
      let pid = 0;
      await until("the subreaper's planner to start", () => {
        pid = childrenOf(reaper.pid).find((c) => {
          try {
            return Deno.readTextFileSync(`/proc/${c}/cmdline`).split("\0").includes("planner");
          } catch {
            return false;
          }
        }) ?? 0;
        return pid !== 0 && exists(join(root, "planner.sock"));
      }, 30_000);
      await until("the planner to serve", async () => {
        const r = await door(p, root, ["list", "-q"], { env: { CELL_PLANNER_IDLE_MS: "60000" } });
        return r.servedBy === pid;
      }, 20_000);
      assert.equal(parentOf(pid), reaper.pid, "the subreaper adopted the planner");
      if (keep === "no") {
        await plannerGone(pid, 6_000); // 2 s after its last call, checked each second
        assert.throws(() => Deno.statSync(join(root, "planner.sock")), "the socket is removed");
      } else {
        await new Promise((r) => setTimeout(r, 4_000));
        assert.ok(alive(pid), "another child of the subreaper is there: the planner stays");
        await stopPlanner(root, pid);
      }
    } finally {
      // Its children (the kept sleep, a planner left by a failure) go first: none is left.
      for (const child of childrenOf(reaper.pid)) Deno.kill(child, "SIGKILL");
      reaper.kill("SIGKILL");
      await reaper.status;
    }
  }
});

Deno.test("planner: calls leave the planner with the fds it had (detached processes too)", async () => {
  const p = await prefix;
  const root = await stateRoot();
  // The bundles first, and an idle time no busy machine reaches between two calls: every call
  // must reach the same planner.
  const quick = await bundle(["true"]);
  const sleeper = await bundle(["sleep", "30"]);
  const env = { CELL_PLANNER_IDLE_MS: "30000" };
  const pid = await plannerServing(p, root, env);
  const fds = () => Deno.readDirSync(`/proc/${pid}/fd`).toArray().length;
  const cycle = async (i: number) => {
    const id = uid(`pl-leak${i}`);
    const steps: [string[], boolean][] = [
      [["run", "--bundle", quick, `${id}-fg`], false],
      [["run", "-d", "--bundle", quick, `${id}-d`], true],
      [["create", "--bundle", sleeper, id], true],
      [["start", id], true],
      [["exec", "-d", id, "true"], true],
      [["exec", id, "true"], false],
      [["delete", "--force", id], false],
      [["delete", "--force", `${id}-d`], false],
    ];
    for (const [args, detached] of steps) {
      const r = await door(p, root, args, { env, detached });
      assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
      assert.equal(r.servedBy, pid);
    }
  };
  await cycle(0);
  const before = fds();
  for (let i = 1; i <= 10; i++) await cycle(i);
  assert.equal(fds(), before, "the planner's open fds after 10 cycles");
  assert.equal((await door(p, root, ["list", "-q"], { env })).stdout, "");
  await stopPlanner(root, pid);
});

Deno.test("planner: a call it hands back (a terminal through the caller's stdin) runs in-process, --keep too", async () => {
  const p = await prefix;
  const root = await stateRoot();
  const pid = await plannerServing(p, root, ENV);
  const dir = await bundle(["sh", "-c", "echo via-tty"], (s) => {
    s.process!.terminal = true;
  });
  const id = uid("pl-tty");
  const log = `${await emptyDir()}/log`;
  const out = await new Deno.Command(join(p, "bin/cell"), {
    args: ["--root", root, "--debug", "--log", log, "run", "--keep", "--bundle", dir, id],
    env: ENV,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(30_000),
  }).output();
  const text = new TextDecoder();
  assert.equal(out.code, 0, text.decode(out.stderr));
  assert.match(text.decode(out.stdout), /via-tty/);
  const lines = Deno.readTextFileSync(log);
  assert.match(lines, new RegExp(`run --keep .*\\(planner ${pid}\\)`), "the planner saw it first");
  assert.match(lines, /run --keep .*\(in-process\)/, "then the caller ran it");
  const state = await door(p, root, ["state", id], { env: ENV });
  assert.equal(JSON.parse(state.stdout).status, "stopped", "kept, once");
  assert.equal((await door(p, root, ["delete", id], { env: ENV })).code, 0);
  await stopPlanner(root, pid);
});
