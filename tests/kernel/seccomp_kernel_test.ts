/**
 * Compiled seccomp filters in the real kernel (tests/support/seccomp_child.ts loads one and
 * makes the calls).
 *
 * @module
 */

import assert from "node:assert/strict";
import { compileSeccomp, type Seccomp, type SeccompTarget } from "../../src/seccomp/compile.ts";
import { SYSCALLS_X86_64 } from "../../src/seccomp/syscalls_x86_64.ts";
import { SYSCALLS_AARCH64 } from "../../src/seccomp/syscalls_aarch64.ts";
import { nr } from "../support/seccomp_fixtures.ts";

// ---------------------------------------------------------------------------------------
// The real kernel
// ---------------------------------------------------------------------------------------

const CHILD = new URL("../support/seccomp_child.ts", import.meta.url).pathname;

async function runChild(
  program: Uint8Array,
  calls: { nr: number; args: (number | string)[] }[],
): Promise<{ code: number; signal: Deno.Signal | null; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CHILD, btoa(String.fromCharCode(...program)), JSON.stringify(calls)],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  return {
    code: out.code,
    signal: out.signal,
    stdout: text.decode(out.stdout),
    stderr: text.decode(out.stderr),
  };
}

const HOST_ARCH: SeccompTarget | null = Deno.build.arch === "x86_64"
  ? "x86_64"
  : Deno.build.arch === "aarch64"
  ? "aarch64"
  : null;

Deno.test({
  name: "the kernel loads a compiled filter and enforces it (child process)",
  ignore: Deno.build.os !== "linux" || HOST_ARCH === null,
  async fn() {
    const arch = HOST_ARCH!;
    const dir = await Deno.makeTempDir({ prefix: "cell-seccomp-" });
    try {
      const program = compileSeccomp({
        defaultAction: "SCMP_ACT_ALLOW",
        syscalls: [
          { names: ["unshare"], action: "SCMP_ACT_ERRNO" },
          { names: ["symlinkat"], action: "SCMP_ACT_ERRNO", errnoRet: 38 },
          {
            // mkdirat with mode 0o700 (the permission bits of arg 2) is refused
            names: ["mkdirat"],
            action: "SCMP_ACT_ERRNO",
            args: [{ index: 2, value: 0o777, valueTwo: 0o700, op: "SCMP_CMP_MASKED_EQ" }],
          },
          {
            // a 64-bit comparison the kernel sees: fchmodat with a huge mode word is refused
            names: ["fchmodat"],
            action: "SCMP_ACT_ERRNO",
            errnoRet: 22,
            args: [{ index: 2, value: 0xffffffffn, op: "SCMP_CMP_GT" }],
          },
        ],
      }, arch);
      const AT_FDCWD = -100, CLONE_NEWUTS = 0x04000000;
      const calls = [
        { nr: nr("mkdirat", arch), args: [AT_FDCWD, `${dir}/refused`, 0o700] },
        { nr: nr("mkdirat", arch), args: [AT_FDCWD, `${dir}/allowed`, 0o755] },
        { nr: nr("unshare", arch), args: [CLONE_NEWUTS] },
        { nr: nr("symlinkat", arch), args: [`${dir}/allowed`, AT_FDCWD, `${dir}/link`] },
        { nr: nr("fchmodat", arch), args: [AT_FDCWD, `${dir}/allowed`, 0o755] },
        { nr: nr("getppid", arch), args: [] },
      ];
      // fchmodat's mode is an unsigned int in the kernel, but seccomp sees the register: a
      // value above 2^32 reaches the filter intact. JSON numbers carry it up to 2^53.
      calls.push({ nr: nr("fchmodat", arch), args: [AT_FDCWD, `${dir}/allowed`, 2 ** 40 + 0o755] });
      const child = await runChild(program, calls);
      assert.equal(child.code, 0, child.stderr);
      const [refused, allowed, unshare, symlink, chmod, ppid, hugeChmod] = JSON.parse(
        child.stdout,
      ) as {
        ret: number;
        errno: number;
      }[];
      assert.deepEqual(refused, { ret: -1, errno: 1 }); // EPERM
      assert.deepEqual(allowed, { ret: 0, errno: 0 });
      assert.deepEqual(unshare, { ret: -1, errno: 1 });
      assert.deepEqual(symlink, { ret: -1, errno: 38 }); // ENOSYS, from errnoRet
      assert.deepEqual(chmod, { ret: 0, errno: 0 });
      assert.equal(ppid.ret, Deno.pid);
      assert.deepEqual(hugeChmod, { ret: -1, errno: 22 });
      assert.ok((await Deno.stat(`${dir}/allowed`)).isDirectory);
      await assert.rejects(Deno.stat(`${dir}/refused`), Deno.errors.NotFound);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "the kernel returns ENOSYS for a syscall newer than the profile (child process)",
  ignore: Deno.build.os !== "linux" || HOST_ARCH === null,
  async fn() {
    const arch = HOST_ARCH!;
    const table = arch === "x86_64" ? SYSCALLS_X86_64 : SYSCALLS_AARCH64;
    // Everything older than landlock is allowed (what this Deno thread needs); the newest
    // call named is futex_waitv, refused like the default.
    const limit = nr("landlock_create_ruleset", arch);
    const allowed = Object.entries(table).filter(([, n]) => n < limit).map(([name]) => name);
    const profile = (architectures: Seccomp["architectures"]): Seccomp => ({
      defaultAction: "SCMP_ACT_ERRNO",
      architectures,
      syscalls: [
        { names: allowed, action: "SCMP_ACT_ALLOW" },
        { names: ["futex_waitv"], action: "SCMP_ACT_ERRNO" },
      ],
    });
    const calls = [
      { nr: nr("landlock_add_rule", arch), args: [-1, 0, 0, 0] }, // older, not allowed
      { nr: nr("futex_waitv", arch) + 1, args: [] }, // newer than the profile
    ];
    const own = arch === "x86_64" ? "SCMP_ARCH_X86_64" : "SCMP_ARCH_AARCH64";
    const patched = await runChild(compileSeccomp(profile([own]), arch), calls);
    assert.equal(patched.code, 0, patched.stderr);
    assert.deepEqual(JSON.parse(patched.stdout), [{ ret: -1, errno: 1 }, { ret: -1, errno: 38 }]);
    // runc adds the stub only for the architectures the profile lists.
    const plain = await runChild(compileSeccomp(profile(undefined), arch), calls);
    assert.equal(plain.code, 0, plain.stderr);
    assert.deepEqual(JSON.parse(plain.stdout), [{ ret: -1, errno: 1 }, { ret: -1, errno: 1 }]);
  },
});

Deno.test({
  name: "the kernel kills the process for SCMP_ACT_KILL_PROCESS (child process)",
  ignore: Deno.build.os !== "linux" || HOST_ARCH === null,
  async fn() {
    const arch = HOST_ARCH!;
    const program = compileSeccomp({
      defaultAction: "SCMP_ACT_ALLOW",
      syscalls: [{
        names: ["getppid"],
        action: "SCMP_ACT_KILL_PROCESS",
        args: [{ index: 0, value: 0xdead, op: "SCMP_CMP_EQ" }],
      }],
    }, arch);
    const child = await runChild(program, [
      { nr: nr("getppid", arch), args: [1] },
      { nr: nr("getppid", arch), args: [0xdead] },
    ]);
    assert.equal(child.signal, "SIGSYS", `code ${child.code} ${child.stderr}`);
    assert.equal(child.stdout, "");
  },
});
