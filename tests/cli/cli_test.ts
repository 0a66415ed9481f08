/**
 * The runc-compatible CLI, run as a separate process the way engines run it.
 */

import assert from "node:assert/strict";
import { bundle, cell, cellArgv, emptyDir, stateRoot, uid } from "../support/cli.ts";
import { cgroupDirsOf, exists } from "../support/fixture.ts";

const ID_fg = uid("fg");
const ID_k = uid("k");
const ID_box = uid("box");
const ID_up = uid("up");
const ID_done = uid("done");
const ID_c = uid("c");
const ID_bg = uid("bg");
const ID_ev = uid("ev");
const ID_sb = uid("sb");

function json(text: string): Record<string, unknown> {
  return JSON.parse(text);
}

Deno.test("cli: run in the foreground prints the output and exits with the container's code", async () => {
  const root = await stateRoot();
  const dir = await bundle(["sh", "-c", "echo hello; echo oops >&2; exit 3"]);
  const r = await cell(root, ["run", "--bundle", dir, ID_fg]);
  assert.equal(r.code, 3);
  assert.equal(r.stdout, "hello\n");
  assert.equal(r.stderr, "oops\n");
  assert.equal((await cell(root, ["list", "-q"])).stdout, "", "run removes the container");
  // Without a pid namespace the shell is not an init, so SIGKILL from itself kills it.
  const selfKill = await bundle(["sh", "-c", "kill -9 $$"], (s) => {
    s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== "pid");
  });
  const killed = await cell(root, ["run", "--bundle", selfKill, ID_k]);
  assert.equal(killed.code, 137, `128 + SIGKILL: ${JSON.stringify(killed)}`);
});

Deno.test("cli: create, state, exec, start, ps, pause, resume, kill, delete", async () => {
  const root = await stateRoot();
  const dir = await bundle(["sleep", "60"]);
  const pidFile = `${dir}/pid`;
  const created = await cell(root, ["create", "--bundle", dir, "--pid-file", pidFile, ID_box], {
    detached: true,
  });
  assert.equal(created.code, 0);
  const pid = Number(Deno.readTextFileSync(pidFile));
  let s = json((await cell(root, ["state", ID_box])).stdout);
  assert.equal(s.status, "created");
  assert.equal(s.pid, pid);
  assert.equal(s.bundle, dir);
  assert.equal(s.id, ID_box);
  assert.ok(typeof s.ociVersion === "string" && typeof s.created === "string");
  const exec = await cell(root, ["exec", ID_box, "sh", "-c", "echo $((6*7)); cat /proc/1/comm"]);
  assert.equal(exec.code, 0, exec.stderr);
  assert.match(exec.stdout, /^42\n/);
  assert.equal((await cell(root, ["start", ID_box], { detached: true })).code, 0);
  s = json((await cell(root, ["state", ID_box])).stdout);
  assert.equal(s.status, "running");
  assert.match(Deno.readTextFileSync(`/proc/${pid}/cmdline`), /^sleep/);
  assert.deepEqual(
    json(`{"p":${(await cell(root, ["ps", "--format", "json", ID_box])).stdout}}`).p,
    [pid],
  );
  const table = (await cell(root, ["ps", ID_box])).stdout.split("\n");
  assert.match(table[0], /PID/);
  assert.ok(table.some((l) => l.includes(String(pid)) && l.includes("sleep")));
  assert.equal((await cell(root, ["pause", ID_box])).code, 0);
  assert.equal(json((await cell(root, ["state", ID_box])).stdout).status, "paused");
  assert.equal((await cell(root, ["resume", ID_box])).code, 0);
  assert.equal(json((await cell(root, ["state", ID_box])).stdout).status, "running");
  const list = JSON.parse((await cell(root, ["list", "--format", "json"])).stdout);
  assert.deepEqual(list.map((c: { id: string }) => c.id), [ID_box]);
  assert.equal((await cell(root, ["kill", ID_box, "KILL"])).code, 0);
  for (let i = 0; i < 100 && exists(`/proc/${pid}`); i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.equal(json((await cell(root, ["state", ID_box])).stdout).status, "stopped");
  assert.equal(json((await cell(root, ["state", ID_box])).stdout).pid, 0);
  assert.equal((await cell(root, ["delete", ID_box])).code, 0);
  assert.equal((await cell(root, ["list", "-q"])).stdout, "");
});

Deno.test("cli: wrong states, unknown containers and bad flags fail with runc's messages", async () => {
  const root = await stateRoot();
  const dir = await bundle(["sleep", "60"]);
  assert.equal(
    (await cell(root, ["run", "-d", "--bundle", dir, ID_up], { detached: true })).code,
    0,
  );
  const startAgain = await cell(root, ["start", ID_up]);
  assert.equal(startAgain.code, 1);
  assert.match(startAgain.stderr, /already running/);
  // podman tells a missing executable (127) from one it cannot run (126) by runc's words.
  const nope = await cell(root, ["exec", ID_up, "nope"]);
  assert.equal(nope.code, 255);
  assert.match(nope.stderr, /exec: \\"nope\\": executable file not found in \$PATH/);
  const denied = await cell(root, ["exec", ID_up, "/etc/passwd"]);
  assert.equal(denied.code, 255);
  assert.match(denied.stderr, /exec: \\"\/etc\/passwd\\": permission denied/);
  const del = await cell(root, ["delete", ID_up]);
  assert.equal(del.code, 1);
  assert.match(del.stderr, /cannot delete container up-\d+ that is not stopped: running/);
  const dup = await cell(root, ["create", "--bundle", dir, ID_up]);
  assert.equal(dup.code, 1);
  assert.match(dup.stderr, /already exists/);
  assert.equal((await cell(root, ["delete", "--force", ID_up])).code, 0);
  const missing = await cell(root, ["state", "nope"]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /does not exist/);
  assert.equal((await cell(root, ["delete", "--force", "nope"])).code, 0, "--force: no error");
  const flag = await cell(root, ["list", "--bogus"]);
  assert.equal(flag.code, 1);
  assert.match(flag.stderr, /flag provided but not defined: --bogus/);
  assert.match(
    flag.stderr,
    /Incorrect Usage\.\n\nNAME:\n {3}cell list - [^]*USAGE:\n {3}cell list /,
  );
  const unknown = await cell(root, ["frobnicate"]);
  assert.equal(unknown.code, 1);
  const noId = await cell(root, ["state"]);
  assert.equal(noId.code, 1);
  const badId = await cell(root, ["create", "--bundle", dir, "../x"]);
  assert.equal(badId.code, 1);
  assert.match(badId.stderr, /invalid container id/);
  const badSignal = await cell(root, ["kill", "nope", "SIGNOPE"]);
  assert.equal(badSignal.code, 1);
});

Deno.test("cli: stopped containers refuse kill but not kill --all, in runc's words; created ones take it", async () => {
  const root = await stateRoot();
  const dir = await bundle(["true"]);
  assert.equal((await cell(root, ["run", "--keep", "--bundle", dir, ID_done])).code, 0);
  assert.equal(json((await cell(root, ["state", ID_done])).stdout).status, "stopped");
  // containerd's shim reads "container not running" as "already gone"; it sends kill --all
  // after the init exits, and retries for ever if that fails.
  const kill = await cell(root, ["kill", ID_done]);
  assert.equal(kill.code, 1);
  assert.match(kill.stderr, /container not running/);
  const all = await cell(root, ["kill", "--all", ID_done, "9"]);
  assert.equal(all.code, 0, all.stderr);
  // runc's exec exits 255 when its process cannot run, with these words.
  const exec = await cell(root, ["exec", ID_done, "true"]);
  assert.equal(exec.code, 255);
  assert.match(exec.stderr, /exec failed: cannot exec in a stopped container/);
  assert.equal((await cell(root, ["delete", ID_done])).code, 0);
  assert.equal((await cell(root, ["create", "--bundle", dir, ID_c], { detached: true })).code, 0);
  assert.equal((await cell(root, ["kill", ID_c, "9"])).code, 0);
  assert.equal((await cell(root, ["delete", ID_c])).code, 0);
});

Deno.test("cli: create with a failing prestart or createContainer hook exits 1 with its error and leaves nothing", async () => {
  const root = await stateRoot();
  for (const kind of ["prestart", "createRuntime", "createContainer"]) {
    const dir = await bundle(["sleep", "30"], (s) => {
      s.hooks = { [kind]: [{ path: "/bin/sh", args: ["sh", "-c", "echo nope >&2; exit 3"] }] };
    });
    const id = uid(`hk-${kind}`);
    const created = await cell(root, ["create", "--bundle", dir, id]); // bounded by the test
    assert.equal(created.code, 1, created.stderr);
    assert.match(
      created.stderr,
      new RegExp(`error running hook #0 \\(${kind} /bin/sh\\): exit status 3: nope`),
    );
    assert.equal((await cell(root, ["list", "-q"])).stdout, "", "the container is gone");
    assert.deepEqual(cgroupDirsOf(id), [], "its cgroups are gone");
  }
});

Deno.test("cli: a failing poststart hook fails start (exit 1) and stops the container; run leaves nothing", async () => {
  const root = await stateRoot();
  const dir = await bundle(["sleep", "30"], (s) => {
    s.hooks = { poststart: [{ path: "/bin/sh", args: ["sh", "-c", "echo late >&2; exit 4"] }] };
  });
  const late = /error running hook #0 \(poststart \/bin\/sh\): exit status 4: late/;
  const id = uid("hk-post");
  assert.equal((await cell(root, ["create", "--bundle", dir, id], { detached: true })).code, 0);
  const started = await cell(root, ["start", id]);
  assert.equal(started.code, 1, started.stderr);
  assert.match(started.stderr, late);
  assert.equal(json((await cell(root, ["state", id])).stdout).status, "stopped");
  assert.equal((await cell(root, ["delete", id])).code, 0);
  const ran = await cell(root, ["run", "--bundle", dir, uid("hk-postrun")]);
  assert.equal(ran.code, 1, ran.stderr);
  assert.match(ran.stderr, late);
  assert.equal((await cell(root, ["list", "-q"])).stdout, "", "run destroyed it");
});

Deno.test("cli: a config without process is created, and start refuses it", async () => {
  const root = await stateRoot();
  const dir = await bundle(["true"], (s) => delete s.process);
  const id = uid("noproc");
  const created = await cell(root, ["create", "--bundle", dir, id]);
  assert.equal(created.code, 0, created.stderr);
  const state = json((await cell(root, ["state", id])).stdout);
  assert.equal(state.status, "created");
  assert.equal(state.pid, 0);
  const started = await cell(root, ["start", id]);
  assert.equal(started.code, 1);
  assert.match(started.stderr, /has no process/);
  assert.equal((await cell(root, ["delete", id])).code, 0);
  assert.equal((await cell(root, ["list", "-q"])).stdout, "");
});

Deno.test("cli: --log-format json writes one JSON error line engines can read", async () => {
  const root = await stateRoot();
  const log = `${root}/log.json`;
  const r = await cell(root, ["--log", log, "--log-format", "json", "start", "ghost"]);
  assert.equal(r.code, 1);
  const lines = Deno.readTextFileSync(log).trim().split("\n").map((l) => JSON.parse(l));
  const last = lines.at(-1);
  assert.equal(last.level, "error");
  assert.match(last.msg, /ghost/);
  assert.ok(!Number.isNaN(Date.parse(last.time)));
  assert.match(r.stderr, /ghost/, "shown on stderr too");
});

Deno.test("cli: run -d, exec -d with pid files, exec flags and --process", async () => {
  const root = await stateRoot();
  const dir = await bundle(["sleep", "60"]);
  const initPid = `${dir}/init.pid`;
  assert.equal(
    (await cell(root, ["run", "-d", "--pid-file", initPid, "--bundle", dir, ID_bg], {
      detached: true,
    })).code,
    0,
  );
  assert.ok(exists(`/proc/${Deno.readTextFileSync(initPid)}`));
  const execPid = `${dir}/exec.pid`;
  const d = await cell(root, ["exec", "-d", "--pid-file", execPid, ID_bg, "sleep", "30"], {
    detached: true,
  });
  assert.equal(d.code, 0);
  const pids = JSON.parse((await cell(root, ["ps", "--format", "json", ID_bg])).stdout);
  assert.ok(pids.includes(Number(Deno.readTextFileSync(execPid))));
  const flags = await cell(root, [
    "exec",
    "--user",
    "1000:1001",
    "--additional-gids",
    "7",
    "--env",
    "FOO=bar",
    "--cwd",
    "/tmp",
    ID_bg,
    "sh",
    "-c",
    "id -u; id -g; id -G; echo $FOO; pwd",
  ]);
  assert.equal(flags.code, 0, flags.stderr);
  assert.deepEqual(flags.stdout.trim().split("\n"), ["1000", "1001", "1001 7", "bar", "/tmp"]);
  // runc's old parsing bug class: "--user 1" must be uid 1, never root.
  const one = await cell(root, ["exec", "--user", "1", ID_bg, "id", "-u"]);
  assert.equal(one.stdout, "1\n", one.stderr);
  const named = await cell(root, ["exec", "--user", "daemon", ID_bg, "id", "-u"]);
  assert.equal(named.code, 255, "a user name is refused (runc's exec failure code), not read as 0");
  const caps = await cell(root, [
    "exec",
    "--cap",
    "CAP_SYS_ADMIN",
    ID_bg,
    "grep",
    "CapEff",
    "/proc/self/status",
  ]);
  const effective = BigInt(`0x${caps.stdout.trim().split(/\s+/)[1]}`);
  assert.equal((effective >> 21n) & 1n, 1n, "CAP_SYS_ADMIN (21) added by --cap");
  const process = `${dir}/process.json`;
  Deno.writeTextFileSync(
    process,
    JSON.stringify({
      args: ["sh", "-c", "echo from-file; exit 4"],
      env: ["PATH=/bin"],
      cwd: "/",
      user: { uid: 0, gid: 0 },
    }),
  );
  const fromFile = await cell(root, ["exec", "--process", process, ID_bg]);
  assert.equal(fromFile.code, 4);
  assert.equal(fromFile.stdout, "from-file\n");
  const exit = await cell(root, ["exec", ID_bg, "sh", "-c", "exit 9"]);
  assert.equal(exit.code, 9);
  assert.equal((await cell(root, ["delete", "-f", ID_bg])).code, 0);
});

Deno.test("cli: --preserve-fds passes fds 3.. to the container, and no other fd", async () => {
  const root = await stateRoot();
  const dir = await bundle(["sh", "-c", "cat <&3; ls /proc/self/fd | tr '\\n' ' '"]);
  const secret = `${dir}/fd3.txt`;
  Deno.writeTextFileSync(secret, "through fd 3\n");
  // fd 3 is opened by a shell that then becomes the CLI; fd 4 is opened too but not passed.
  const out = await new Deno.Command("sh", {
    args: [
      "-c",
      `exec 3<${secret} 4<${secret}; exec "$@"`,
      "sh",
      ...cellArgv(root),
      "run",
      "--preserve-fds",
      "1",
      "--bundle",
      dir,
      uid("fds"),
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const [line, fds] = text.split("\n");
  assert.equal(line, "through fd 3");
  // 0-2, the preserved 3, and 4 that ls opened itself: the CLI's other fd 4 did not leak.
  assert.deepEqual(fds.trim().split(" ").map(Number), [0, 1, 2, 3, 4]);
});

Deno.test("cli: events --stats and update --memory", async () => {
  const root = await stateRoot();
  const dir = await bundle(["sleep", "60"]);
  assert.equal(
    (await cell(root, ["run", "-d", "--bundle", dir, ID_ev], { detached: true })).code,
    0,
  );
  const stats = JSON.parse((await cell(root, ["events", "--stats", ID_ev])).stdout);
  assert.equal(stats.type, "stats");
  assert.equal(stats.id, ID_ev);
  assert.ok(stats.data.memory.usage.usage > 0);
  assert.equal(stats.data.pids.current, 1);
  // PSI in runc's shape, from the container's directory in the unified hierarchy.
  for (const part of ["cpu", "memory", "blkio"]) {
    const psi = stats.data[part].psi;
    assert.equal(typeof psi?.some?.total, "number", `${part}.psi: ${JSON.stringify(psi)}`);
    assert.equal(typeof psi.some.avg10, "number");
  }
  const up = await cell(root, ["update", "--memory", "64m", "--pids-limit", "20", ID_ev]);
  assert.equal(up.code, 0, up.stderr);
  const after = JSON.parse((await cell(root, ["events", "--stats", ID_ev])).stdout);
  assert.equal(after.data.memory.usage.limit, 64 * 1024 * 1024);
  assert.equal(after.data.pids.limit, 20);
  const fromStdin = await cell(root, ["update", "--resources", "-", ID_ev], {
    stdin: JSON.stringify({ pids: { limit: 30 } }),
  });
  assert.equal(fromStdin.code, 0, fromStdin.stderr);
  const last = JSON.parse((await cell(root, ["events", "--stats", ID_ev])).stdout);
  assert.equal(last.data.pids.limit, 30);
  const bad = await cell(root, ["update", "--memory", "lots", ID_ev]);
  assert.equal(bad.code, 1);
  assert.equal((await cell(root, ["delete", "-f", ID_ev])).code, 0);
});

Deno.test("cli: a bundle with an id-mapped bind mount (relative source) shows and writes mapped ids", async () => {
  const root = await stateRoot();
  const script = "stat -c %u:%g /idm/owned; touch /idm/made && echo made";
  const dir = await bundle(["sh", "-c", script], (s) => {
    s.mounts!.push({
      destination: "/idm",
      type: "bind",
      source: "vol",
      options: ["rbind", "idmap"],
      uidMappings: [{ containerID: 1000, hostID: 0, size: 1 }],
      gidMappings: [{ containerID: 1000, hostID: 0, size: 1 }],
    });
  });
  const vol = `${dir}/vol`;
  Deno.mkdirSync(vol);
  const mounted = await new Deno.Command("mount", { args: ["-t", "tmpfs", "cell-cli-idmap", vol] })
    .output();
  assert.ok(mounted.success, "mount a tmpfs for the volume");
  try {
    Deno.chownSync(vol, 1000, 1000);
    Deno.writeTextFileSync(`${vol}/owned`, "x");
    Deno.chownSync(`${vol}/owned`, 1000, 1000);
    const r = await cell(root, ["run", "--bundle", dir, uid("idmap")]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "0:0\nmade\n");
    const made = Deno.statSync(`${vol}/made`);
    assert.deepEqual([made.uid, made.gid], [1000, 1000], "root's file lands as 1000 on the host");
  } finally {
    const out = await new Deno.Command("umount", { args: [vol] }).output();
    assert.ok(out.success, `umount ${vol}`);
  }
});

Deno.test("cli: spec, spec --rootless, features, --version", async () => {
  const root = await stateRoot();
  const dir = await emptyDir();
  assert.equal((await cell(root, ["spec", "--bundle", dir])).code, 0);
  const spec = JSON.parse(Deno.readTextFileSync(`${dir}/config.json`));
  assert.equal(spec.root.path, "rootfs");
  const again = await cell(root, ["spec", "--bundle", dir]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /exists/);
  Deno.removeSync(`${dir}/config.json`);
  assert.equal((await cell(root, ["spec", "--rootless", "--bundle", dir])).code, 0);
  const rootless = JSON.parse(Deno.readTextFileSync(`${dir}/config.json`));
  assert.ok(rootless.linux.namespaces.some((n: { type: string }) => n.type === "user"));
  const features = JSON.parse((await cell(root, ["features"])).stdout);
  assert.equal(features.ociVersionMax, "1.3.0", "runtime-spec 1.3 declared");
  assert.ok(features.linux.seccomp.actions.includes("SCMP_ACT_NOTIFY"));
  assert.ok(features.linux.memoryPolicy.modes.includes("MPOL_BIND"));
  assert.ok(features.linux.memoryPolicy.flags.includes("MPOL_F_STATIC_NODES"));
  assert.deepEqual(features.linux.seccomp.knownFlags, [
    "SECCOMP_FILTER_FLAG_TSYNC",
    "SECCOMP_FILTER_FLAG_LOG",
    "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
    "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
  ]);
  // This kernel (6.x) has all of them.
  assert.deepEqual(features.linux.seccomp.supportedFlags, features.linux.seccomp.knownFlags);
  assert.ok(features.linux.namespaces.includes("user"));
  assert.ok(features.linux.seccomp.enabled);
  assert.ok(features.mountOptions.includes("rbind"));
  assert.ok(features.mountOptions.includes("idmap") && features.mountOptions.includes("ridmap"));
  assert.deepEqual(features.linux.mountExtensions, { idmap: { enabled: true } });
  const version = await cell(root, ["--version"]);
  assert.match(version.stdout, /^cell version \d+\.\d+\.\d+\ncommit: .+\nspec: 1\.\d+\.\d+/);
  const systemd = await cell(root, ["--systemd-cgroup", "list"]);
  assert.equal(systemd.code, 1);
  assert.match(systemd.stderr, /systemd/);
});

Deno.test("cli: run without a config.json runs the command in the built-in sandbox", async () => {
  const root = await stateRoot();
  const dir = await emptyDir();
  const r = await cell(root, [
    "run",
    "--bundle",
    dir,
    ID_sb,
    "--",
    "sh",
    "-c",
    "hostname; echo ok",
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "cell-sandbox\nok\n");
});

Deno.test("cli: a terminal through --console-socket, as conmon and containerd's shim take it", async () => {
  const root = await stateRoot();
  const dir = await bundle(["sh", "-c", "tty; echo hi"], (s) => {
    s.process!.terminal = true;
  });
  const socket = `${dir}/console.sock`;
  const receiver = new Deno.Command("python3", {
    args: [new URL("../support/console_receiver.py", import.meta.url).pathname, socket],
    stdout: "piped",
  }).spawn();
  const lines = receiver.stdout.pipeThrough(new TextDecoderStream()).getReader();
  // Chunks are not lines: "listening" and its newline may come apart.
  let text = "";
  while (!text.includes("listening\n")) {
    const chunk = await lines.read();
    assert.ok(!chunk.done, `the receiver ended before it listened: ${JSON.stringify(text)}`);
    text += chunk.value;
  }
  text = text.slice(text.indexOf("listening\n") + "listening\n".length);
  const id = uid("tty");
  const created = await cell(root, ["create", "--console-socket", socket, "--bundle", dir, id], {
    detached: true,
  });
  assert.equal(created.code, 0);
  assert.equal((await cell(root, ["start", id], { detached: true })).code, 0);
  for (let chunk = await lines.read(); !chunk.done; chunk = await lines.read()) text += chunk.value;
  await receiver.status;
  const [first, ...rest] = text.split("\n");
  assert.equal(first, "/dev/pts/0 1", `the pty's name and exactly one fd: ${JSON.stringify(text)}`);
  assert.deepEqual(rest.join("\n").split("\r\n").slice(0, 2), ["/dev/pts/0", "hi"]);
  assert.equal((await cell(root, ["delete", "-f", id])).code, 0);
  const noTerminal = await cell(root, [
    "run",
    "--console-socket",
    socket,
    "--bundle",
    await bundle(["true"]),
    uid("nt"),
  ]);
  assert.equal(noTerminal.code, 1);
  assert.match(noTerminal.stderr, /no terminal/);
});

Deno.test("cli: run with a terminal in the foreground proxies the caller's terminal", async () => {
  const root = await stateRoot();
  const dir = await bundle(["sh", "-c", "tty; read x; echo got $x; exit 5"], (s) => {
    s.process!.terminal = true;
  });
  const command = [
    ...cellArgv(root),
    "run",
    "--bundle",
    dir,
    uid("fgtty"),
  ].join(" ");
  // util-linux `script` gives the CLI a terminal of its own, as a user's shell would.
  const child = new Deno.Command("script", {
    args: ["-qec", command, "/dev/null"],
    stdin: "piped",
    stdout: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await new Promise((r) => setTimeout(r, 1500));
  await writer.write(new TextEncoder().encode("abc\r"));
  const out = await child.output();
  const text = new TextDecoder().decode(out.stdout);
  assert.equal(out.code, 5, text);
  assert.match(text, /\/dev\/pts\/0/);
  assert.match(text, /got abc/);
});

Deno.test("cli: events streams stats and an oom line, and ends when the container stops", async () => {
  const root = await stateRoot();
  const dir = await bundle(["sh", "-c", "sleep 1; tail /dev/zero"], (s) => {
    s.linux!.resources = {
      ...s.linux!.resources,
      memory: { limit: 16 * 1024 * 1024, swap: 16 * 1024 * 1024 },
    };
  });
  const id = uid("oom");
  assert.equal((await cell(root, ["run", "-d", "--bundle", dir, id], { detached: true })).code, 0);
  const events = await cell(root, ["events", "--interval", "200ms", id]);
  assert.equal(events.code, 0, events.stderr);
  const lines = events.stdout.trim().split("\n").map((l) => JSON.parse(l));
  assert.ok(lines.some((e) => e.type === "stats" && e.id === id), "stats lines");
  assert.ok(lines.some((e) => e.type === "oom" && e.id === id), `an oom line: ${events.stdout}`);
  assert.equal((await cell(root, ["delete", id])).code, 0);
});

Deno.test("cli: run in the foreground passes SIGTERM on to the container and exits with its status", async () => {
  const root = await stateRoot();
  const dir = await bundle(["sh", "-c", "trap 'exit 7' TERM; echo ready; sleep 30 & wait"]);
  const [program, ...prefix] = cellArgv(root);
  const child = new Deno.Command(program, {
    args: [...prefix, "run", "--bundle", dir, uid("sig")],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const first = (await reader.read()).value;
  if (first !== "ready\n") {
    const stderr = await new Response(child.stderr).text();
    assert.fail(`no "ready" from the container (${JSON.stringify(first)}): ${stderr}`);
  }
  child.kill("SIGTERM");
  const status = await child.status;
  reader.releaseLock();
  await child.stdout.cancel().catch(() => {});
  await child.stderr.cancel().catch(() => {});
  assert.equal(status.code, 7, "the container's trap ran and its exit status came back");
});
