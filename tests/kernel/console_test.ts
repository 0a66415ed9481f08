/**
 * Terminals, as runc's `--console-socket` makes them: a pseudo-terminal opened inside the
 * container, its master sent to the caller's unix socket, its slave the process's only
 * stdio and its controlling terminal. Runs as root.
 *
 * @module
 */

import assert from "node:assert/strict";
import { type Container, ContainerError, type ProcessOptions } from "../../mod.ts";
import { close, O, open, unixConnect } from "../../src/syscalls.ts";
import { busyboxConfig, withContainer } from "../support/fixture.ts";
import { openConsole } from "../support/console.ts";

/** `ls -l` lines "... <fd> -> <target>" as a map (of the shell's fds: ls runs in a child). */
function fdTargets(text: string): Map<number, string> {
  const fds = new Map<number, string>();
  for (const [, fd, target] of text.matchAll(/ (\d+) -> (\S+)/g)) fds.set(Number(fd), target);
  return fds;
}

async function startError(box: Container, options: ProcessOptions): Promise<ContainerError> {
  let error: unknown;
  try {
    await box.start(options);
  } catch (e) {
    error = e;
  }
  assert.ok(error instanceof ContainerError, `expected the start to fail, got ${error}`);
  return error;
}

Deno.test("the init's terminal is a pty of the container's devpts, its only stdio and its controlling tty", async () => {
  const script = [
    "tty",
    "ls -l /proc/$$/fd",
    "echo ctty > /dev/tty",
    "read line",
    "echo got:$line",
    "echo done",
  ].join("; ");
  const config = await busyboxConfig(["sh", "-c", script], (spec) => {
    spec.process!.terminal = true;
  });
  await withContainer(config, async (box) => {
    using console = openConsole();
    const proc = await box.start({ consoleSocket: console.socket });
    const master = console.receive();
    // The first pty of a new devpts instance, named in the message as runc names it.
    assert.equal(master.text, "/dev/pts/0");
    const flags = /^flags:\s+([0-7]+)$/m.exec(
      Deno.readTextFileSync(`/proc/self/fdinfo/${master.fd}`),
    );
    assert.ok(flags && (parseInt(flags[1], 8) & 0o2000000) !== 0, "the master is close-on-exec");
    let out = await console.readUntil("ctty");
    console.type("typed\n");
    out += await console.readUntil("done");
    assert.equal((await proc.status).code, 0, out);
    const lines = out.split("\r\n");
    assert.equal(lines[0], "/dev/pts/0");
    // The shell's 0, 1 and 2 are the slave, and nothing else came in.
    const fds = fdTargets(out);
    assert.deepEqual([...fds.keys()].sort(), [0, 1, 2], out);
    for (const fd of [0, 1, 2]) assert.equal(fds.get(fd), "/dev/pts/0", out);
    // /dev/tty opens only for a process with a controlling terminal.
    assert.ok(lines.includes("ctty"), out);
    // What is typed is echoed by the terminal and read from stdin.
    assert.ok(lines.includes("typed"), out);
    assert.ok(lines.includes("got:typed"), out);
  });
});

Deno.test("an exec'd process gets a terminal of its own, and a non-root user owns it", async () => {
  const config = await busyboxConfig(["sleep", "30"]);
  await withContainer(config, async (box) => {
    await box.start({ stdin: "null", stdout: "null", stderr: "null" });
    using console = openConsole();
    const script = "tty; id -u; stat -c %u:%g $(tty); ls -l /proc/$$/fd; echo done";
    // A console socket asks for a terminal (the config has none).
    const proc = await box.start({
      args: ["sh", "-c", script],
      user: { uid: 1000, gid: 1000 },
      consoleSocket: console.socket,
    });
    assert.equal(console.receive().text, "/dev/pts/0");
    const out = await console.readUntil("done");
    assert.equal((await proc.status).code, 0, out);
    const lines = out.split("\r\n");
    assert.equal(lines[0], "/dev/pts/0", out);
    assert.equal(lines[1], "1000", out);
    // The uid is the user's (as runc gives it the stdio); the group stays devpts' tty group.
    assert.equal(lines[2], "1000:5", out);
    const fds = fdTargets(out);
    assert.deepEqual([...fds.keys()].sort(), [0, 1, 2], out);
    for (const fd of [0, 1, 2]) assert.equal(fds.get(fd), "/dev/pts/0", out);
  });
});

Deno.test("a terminal in a container with its own user namespace", async () => {
  const config = await busyboxConfig(
    ["sh", "-c", "tty; stat -c %u:%g $(tty); echo done"],
    (spec) => {
      spec.process!.terminal = true;
      spec.linux!.namespaces!.push({ type: "user" });
      spec.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      spec.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    },
  );
  await withContainer(config, async (box) => {
    using console = openConsole();
    const proc = await box.start({ consoleSocket: console.socket });
    assert.equal(console.receive().text, "/dev/pts/0");
    const out = await console.readUntil("done");
    assert.equal((await proc.status).code, 0, out);
    assert.deepEqual(out.split("\r\n").slice(0, 2), ["/dev/pts/0", "0:5"], out);
  });
});

Deno.test("a console socket by path, as runc's --console-socket: the listener gets the pty's name", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cell-console-" });
  const path = `${dir}/console.sock`;
  using listener = Deno.listen({ transport: "unix", path });
  const config = await busyboxConfig(["true"], (spec) => {
    spec.process!.terminal = true;
  });
  try {
    await withContainer(config, async (box) => {
      const socket = unixConnect(path);
      const accepted = listener.accept();
      try {
        await box.start({ consoleSocket: socket });
      } finally {
        close(socket);
      }
      // Deno reads the bytes; the master that came with them is dropped by the kernel.
      using conn = await accepted;
      const buf = new Uint8Array(64);
      const n = await conn.read(buf);
      assert.equal(new TextDecoder().decode(buf.subarray(0, n ?? 0)), "/dev/pts/0");
    });
    assert.throws(
      () => unixConnect(`${dir}/missing.sock`),
      (e) => e instanceof ContainerError && e.syscall === "connect" && e.errnoName === "ENOENT",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a console socket that is not a socket fails the start with a SystemError", async () => {
  const config = await busyboxConfig(["true"], (spec) => {
    spec.process!.terminal = true;
  });
  await withContainer(config, async (box) => {
    const notSocket = open("/dev/null", O.RDWR);
    try {
      const e = await startError(box, { consoleSocket: notSocket });
      assert.equal(e.code, "SystemError");
      assert.equal(e.syscall, "sendmsg");
      assert.equal(e.errnoName, "ENOTSOCK");
      assert.ok(e.message.includes(`console socket (fd ${notSocket})`), e.message);
      assert.ok(e.message.includes("ENOTSOCK"), e.message);
    } finally {
      close(notSocket);
    }
    assert.equal(await box.status(), "created");
  });
});

Deno.test("a terminal needs a console socket, and a console socket a terminal", async () => {
  const config = await busyboxConfig(["true"], (spec) => {
    spec.process!.terminal = true;
  });
  await withContainer(config, async (box) => {
    let e = await startError(box, {});
    assert.equal(e.code, "ConfigInvalid");
    assert.ok(e.message.includes("process.terminal needs a console socket"), e.message);
    using console = openConsole();
    e = await startError(box, { terminal: false, consoleSocket: console.socket });
    assert.equal(e.code, "ConfigInvalid");
    assert.ok(e.message.includes("consoleSocket: the process has no terminal"), e.message);
    e = await startError(box, { consoleSocket: console.socket, stdout: "piped" });
    assert.equal(e.code, "ConfigInvalid");
    assert.ok(e.message.includes("stdout: the process's terminal is its stdout"), e.message);
    e = await startError(box, { consoleSocket: -1 });
    assert.equal(e.code, "ConfigInvalid");
    assert.ok(e.message.includes("consoleSocket: must be an open fd number"), e.message);
    assert.equal(await box.status(), "created");
  });
});

Deno.test("process.consoleSize sets the terminal's size before the process runs; an exec may give its own", async () => {
  const config = await busyboxConfig(["sh", "-c", "stty size; echo done"], (spec) => {
    spec.process!.terminal = true;
    spec.process!.consoleSize = { height: 37, width: 123 };
  });
  await withContainer(config, async (box) => {
    using console = openConsole();
    const proc = await box.start({ consoleSocket: console.socket });
    console.receive();
    const out = await console.readUntil("done");
    assert.equal((await proc.status).code, 0, out);
    assert.equal(out.split("\r\n")[0], "37 123", out);
  });
  const quiet = await busyboxConfig(["sleep", "30"]);
  await withContainer(quiet, async (box) => {
    await box.start({ stdin: "null", stdout: "null", stderr: "null" });
    using console = openConsole();
    const proc = await box.start({
      args: ["sh", "-c", "stty size; echo done"],
      consoleSocket: console.socket,
      consoleSize: { height: 5, width: 9 },
    });
    console.receive();
    const out = await console.readUntil("done");
    assert.equal((await proc.status).code, 0, out);
    assert.equal(out.split("\r\n")[0], "5 9", out);
  });
});
