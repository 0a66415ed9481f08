/**
 * The seccomp compiler without root: OCI `linux.seccomp` → classic BPF, checked and run on
 * a BPF interpreter (tests/support/cbpf.ts).
 *
 * @module
 */

import assert from "node:assert/strict";
import { ContainerError } from "../../src/errors.ts";
import {
  AUDIT_ARCH,
  BPF_MAXINSNS,
  compileSeccomp,
  type Seccomp,
  SECCOMP_FILTER_FLAG,
  SECCOMP_RET,
  seccompFlags,
  type SeccompSyscall,
  type SeccompTarget,
  syscallNumber,
  unknownSyscallNames,
  X32_SYSCALL_BIT,
} from "../../src/seccomp/compile.ts";
import {
  clearSeccompCache,
  compileSeccompCached,
  SECCOMP_CACHE_SIZE,
  seccompCacheKey,
  seccompCacheSize,
} from "../../src/seccomp/cache.ts";
import { SYSCALLS_X86_64 } from "../../src/seccomp/syscalls_x86_64.ts";
import { SYSCALLS_AARCH64 } from "../../src/seccomp/syscalls_aarch64.ts";
import { check, decode, run } from "../support/cbpf.ts";

import {
  ALLOW,
  ARCHES,
  assertConfigInvalid,
  compile,
  EPERM,
  ERRNO,
  holds,
  INTERESTING,
  KILL_THREAD,
  nr,
  OPS,
  PODMAN_LIKE,
  prng,
  SOCKET_RULES,
  U64,
  verdict,
} from "../support/seccomp_fixtures.ts";

// ---------------------------------------------------------------------------------------
// Syscall tables
// ---------------------------------------------------------------------------------------

Deno.test("syscall tables: kernel numbers, kernel spelling, no prototype lookups", () => {
  assert.equal(SYSCALLS_X86_64.read, 0);
  assert.equal(SYSCALLS_X86_64.openat, 257);
  assert.equal(SYSCALLS_X86_64._sysctl, 156);
  assert.equal(SYSCALLS_X86_64.clone3, 435);
  assert.equal(SYSCALLS_AARCH64.openat, 56);
  assert.equal(SYSCALLS_AARCH64.read, 63);
  assert.equal(SYSCALLS_AARCH64.clone, 220);
  assert.equal(syscallNumber("aarch64", "open"), undefined);
  assert.equal(syscallNumber("x86_64", "constructor"), undefined);
  assert.equal(syscallNumber("x86_64", "__proto__"), undefined);
  assert.ok(Object.isFrozen(SYSCALLS_X86_64) && Object.isFrozen(SYSCALLS_AARCH64));
  for (const table of [SYSCALLS_X86_64, SYSCALLS_AARCH64]) {
    const numbers = Object.values(table);
    assert.equal(new Set(numbers).size, numbers.length, "two names share a number");
    assert.ok(numbers.every((n) => Number.isInteger(n) && n >= 0 && n < X32_SYSCALL_BIT));
  }
});

// ---------------------------------------------------------------------------------------
// Actions
// ---------------------------------------------------------------------------------------

Deno.test("default action only: every action and its return value", () => {
  const cases: [Seccomp, number][] = [
    [{ defaultAction: "SCMP_ACT_ALLOW" }, ALLOW],
    [{ defaultAction: "SCMP_ACT_ERRNO" }, EPERM],
    [{ defaultAction: "SCMP_ACT_ERRNO", defaultErrnoRet: 38 }, ERRNO(38)],
    [{ defaultAction: "SCMP_ACT_KILL" }, KILL_THREAD],
    [{ defaultAction: "SCMP_ACT_KILL_THREAD" }, KILL_THREAD],
    [{ defaultAction: "SCMP_ACT_KILL_PROCESS" }, SECCOMP_RET.KILL_PROCESS],
    [{ defaultAction: "SCMP_ACT_TRAP" }, SECCOMP_RET.TRAP],
    [{ defaultAction: "SCMP_ACT_LOG" }, SECCOMP_RET.LOG],
    [{ defaultAction: "SCMP_ACT_TRACE" }, (SECCOMP_RET.TRACE | 1) >>> 0],
    [{ defaultAction: "SCMP_ACT_TRACE", defaultErrnoRet: 7 }, (SECCOMP_RET.TRACE | 7) >>> 0],
  ];
  for (const arch of ARCHES) {
    for (const [profile, want] of cases) {
      const program = compile(profile, arch);
      for (const name of ["read", "openat", "exit_group", "mount"]) {
        assert.equal(verdict(program, name, [], arch), want, `${profile.defaultAction} ${name}`);
      }
      // numbers no syscall has take the default too
      assert.equal(run(program, { nr: 5000, arch: AUDIT_ARCH[arch] }), want);
    }
  }
});

Deno.test("allow and errno lists, errnoRet per rule, TRACE data", () => {
  const profile: Seccomp = {
    defaultAction: "SCMP_ACT_ERRNO",
    syscalls: [
      { names: ["read", "write", "close", "exit_group"], action: "SCMP_ACT_ALLOW" },
      { names: ["mkdirat", "unlinkat"], action: "SCMP_ACT_ERRNO", errnoRet: 13 },
      { names: ["clone3"], action: "SCMP_ACT_ERRNO", errnoRet: 38 },
      { names: ["getppid"], action: "SCMP_ACT_TRACE", errnoRet: 1234 },
      { names: ["getpid"], action: "SCMP_ACT_TRACE" },
      { names: ["kill"], action: "SCMP_ACT_KILL_PROCESS" },
      { names: ["tkill"], action: "SCMP_ACT_TRAP" },
      { names: ["uname"], action: "SCMP_ACT_LOG" },
      { names: ["tgkill"], action: "SCMP_ACT_KILL" },
    ],
  };
  for (const arch of ARCHES) {
    const p = compile(profile, arch);
    const v = (name: string) => verdict(p, name, [], arch);
    for (const name of ["read", "write", "close", "exit_group"]) assert.equal(v(name), ALLOW);
    assert.equal(v("mkdirat"), ERRNO(13));
    assert.equal(v("unlinkat"), ERRNO(13));
    assert.equal(v("clone3"), ERRNO(38));
    assert.equal(v("getppid"), (SECCOMP_RET.TRACE | 1234) >>> 0);
    assert.equal(v("getpid"), (SECCOMP_RET.TRACE | 1) >>> 0);
    assert.equal(v("kill"), SECCOMP_RET.KILL_PROCESS);
    assert.equal(v("tkill"), SECCOMP_RET.TRAP);
    assert.equal(v("uname"), SECCOMP_RET.LOG);
    assert.equal(v("tgkill"), KILL_THREAD);
    assert.equal(v("openat"), EPERM);
    assert.equal(v("mount"), EPERM);
  }
});

Deno.test("errno 0 fakes success and 65535 is the largest errno", () => {
  const p = compile({
    defaultAction: "SCMP_ACT_ALLOW",
    syscalls: [
      { names: ["mkdirat"], action: "SCMP_ACT_ERRNO", errnoRet: 0 },
      { names: ["unlinkat"], action: "SCMP_ACT_ERRNO", errnoRet: 65535 },
    ],
  });
  assert.equal(verdict(p, "mkdirat"), ERRNO(0));
  assert.equal(verdict(p, "unlinkat"), ERRNO(65535));
});

// ---------------------------------------------------------------------------------------
// Arguments
// ---------------------------------------------------------------------------------------

Deno.test("each operator compares the full 64-bit argument (high words differ too)", () => {
  for (const arch of ARCHES) {
    for (const op of OPS) {
      for (const value of INTERESTING) {
        for (const index of [0, 5]) {
          const p = compile({
            defaultAction: "SCMP_ACT_ERRNO",
            syscalls: [{
              names: ["personality"],
              action: "SCMP_ACT_ALLOW",
              args: [{ index, value, op }],
            }],
          }, arch);
          const args = (x: bigint) => Array.from({ length: 6 }, (_, i) => (i === index ? x : 7n));
          for (const arg of INTERESTING) {
            const want = holds(op, arg, value) ? ALLOW : EPERM;
            assert.equal(
              verdict(p, "personality", args(arg), arch),
              want,
              `${arch}: arg${index}=0x${arg.toString(16)} ${op} 0x${value.toString(16)}`,
            );
          }
        }
      }
    }
  }
});

Deno.test("SCMP_CMP_MASKED_EQ: (arg & value) == (valueTwo & value), high word included", () => {
  const masks = [0n, 0xffn, 0x7e020000n, 0xffffffffn, 0xff00000000n, 0x80000000000000ffn, U64];
  const data = [0n, 1n, 0x20000n, 0xffn, 0x1200000000n, 0x80000000000000ffn, U64];
  for (const mask of masks) {
    for (const valueTwo of data) {
      const p = compile({
        defaultAction: "SCMP_ACT_ERRNO",
        syscalls: [{
          names: ["clone"],
          action: "SCMP_ACT_ALLOW",
          args: [{ index: 0, value: mask, valueTwo, op: "SCMP_CMP_MASKED_EQ" }],
        }],
      });
      for (const arg of [...INTERESTING, ...data, 0x7e020000n, 0x1_7e02_0000n]) {
        assert.equal(
          verdict(p, "clone", [arg]),
          holds("SCMP_CMP_MASKED_EQ", arg, mask, valueTwo) ? ALLOW : EPERM,
          `(0x${arg.toString(16)} & 0x${mask.toString(16)}) == 0x${valueTwo.toString(16)}`,
        );
      }
    }
  }
});

Deno.test("values may be bigints up to 2^64-1; valueTwo defaults to 0", () => {
  const p = compile({
    defaultAction: "SCMP_ACT_ERRNO",
    syscalls: [
      {
        names: ["read"],
        action: "SCMP_ACT_ALLOW",
        args: [{ index: 1, value: U64, op: "SCMP_CMP_EQ" }],
      },
      {
        names: ["write"],
        action: "SCMP_ACT_ALLOW",
        args: [{ index: 0, value: 0xf0n, op: "SCMP_CMP_MASKED_EQ" }],
      },
    ],
  });
  assert.equal(verdict(p, "read", [0, U64]), ALLOW);
  assert.equal(verdict(p, "read", [0, U64 - 1n]), EPERM);
  assert.equal(verdict(p, "write", [0x0f]), ALLOW);
  assert.equal(verdict(p, "write", [0x10]), EPERM);
});

Deno.test("conditions of one rule are ANDed; rules for one syscall are ORed", () => {
  const p = compile({
    defaultAction: "SCMP_ACT_ERRNO",
    syscalls: [
      {
        names: ["mmap"],
        action: "SCMP_ACT_ALLOW",
        args: [
          { index: 2, value: 4, op: "SCMP_CMP_MASKED_EQ", valueTwo: 0 }, // no PROT_EXEC
          { index: 1, value: 1n << 32n, op: "SCMP_CMP_LT" },
        ],
      },
      {
        names: ["mmap"],
        action: "SCMP_ACT_ALLOW",
        args: [{ index: 0, value: 0x1000, op: "SCMP_CMP_EQ" }],
      },
    ],
  });
  const mmap = (addr: bigint, len: bigint, prot: bigint) => verdict(p, "mmap", [addr, len, prot]);
  assert.equal(mmap(0n, 4096n, 3n), ALLOW);
  assert.equal(mmap(0n, 4096n, 7n), EPERM); // PROT_EXEC
  assert.equal(mmap(0n, 1n << 32n, 3n), EPERM); // too long
  assert.equal(mmap(0x1000n, 1n << 40n, 7n), ALLOW); // second rule
  assert.equal(mmap(0x1001n, 1n << 40n, 7n), EPERM);
});

Deno.test("two conditions on one argument become separate rules (runc), ORed", () => {
  // personality(0) or personality(8): written as one rule with two EQs on arg 0.
  const p = compile({
    defaultAction: "SCMP_ACT_ERRNO",
    syscalls: [{
      names: ["personality"],
      action: "SCMP_ACT_ALLOW",
      args: [
        { index: 0, value: 0, op: "SCMP_CMP_EQ" },
        { index: 0, value: 8, op: "SCMP_CMP_EQ" },
        { index: 1, value: 5, op: "SCMP_CMP_EQ" },
      ],
    }],
  });
  assert.equal(verdict(p, "personality", [0, 1]), ALLOW);
  assert.equal(verdict(p, "personality", [8, 1]), ALLOW);
  assert.equal(verdict(p, "personality", [3, 5]), ALLOW); // the arg-1 condition alone
  assert.equal(verdict(p, "personality", [3, 1]), EPERM);
});

Deno.test("the first unconditional rule for a syscall decides it, conditional ones are dropped", () => {
  const p = compile({
    defaultAction: "SCMP_ACT_ERRNO",
    syscalls: [
      {
        names: ["read"],
        action: "SCMP_ACT_LOG",
        args: [{ index: 0, value: 1, op: "SCMP_CMP_EQ" }],
      },
      { names: ["read"], action: "SCMP_ACT_ALLOW" },
      { names: ["read"], action: "SCMP_ACT_TRAP" },
      {
        names: ["read"],
        action: "SCMP_ACT_LOG",
        args: [{ index: 0, value: 2, op: "SCMP_CMP_EQ" }],
      },
    ],
  });
  for (const fd of [0, 1, 2]) assert.equal(verdict(p, "read", [fd]), ALLOW);
});

Deno.test("a MASKED_EQ with mask 0 always holds, so its rule is unconditional", () => {
  const p = compile({
    defaultAction: "SCMP_ACT_ERRNO",
    syscalls: [
      {
        names: ["read"],
        action: "SCMP_ACT_LOG",
        args: [{ index: 0, value: 1, op: "SCMP_CMP_EQ" }],
      },
      {
        names: ["read"],
        action: "SCMP_ACT_ALLOW",
        args: [{ index: 0, value: 0, valueTwo: 5, op: "SCMP_CMP_MASKED_EQ" }],
      },
    ],
  });
  for (const fd of [0, 1, 5]) assert.equal(verdict(p, "read", [fd]), ALLOW);
});

Deno.test("rules with the default's action are skipped, as runc does", () => {
  // Kept, the unconditional ERRNO rule would decide read; skipped, the conditional one does.
  const p = compile({
    defaultAction: "SCMP_ACT_ERRNO",
    syscalls: [
      { names: ["read"], action: "SCMP_ACT_ERRNO" },
      {
        names: ["read"],
        action: "SCMP_ACT_ALLOW",
        args: [{ index: 0, value: 1, op: "SCMP_CMP_EQ" }],
      },
      { names: ["write"], action: "SCMP_ACT_ERRNO", errnoRet: 1 },
      { names: ["write"], action: "SCMP_ACT_ALLOW" },
    ],
  });
  assert.equal(verdict(p, "read", [1]), ALLOW);
  assert.equal(verdict(p, "read", [2]), EPERM);
  assert.equal(verdict(p, "write", [1]), ALLOW);
});

Deno.test("overlapping rules: libseccomp's order (higher argument index first), not profile order", () => {
  const socket = SOCKET_RULES;
  for (const syscalls of [socket, [...socket].reverse()]) {
    const p = compile({ defaultAction: "SCMP_ACT_ERRNO", syscalls });
    assert.equal(verdict(p, "socket", [16, 3, 9]), ERRNO(22));
    assert.equal(verdict(p, "socket", [16, 3, 0]), ALLOW);
    assert.equal(verdict(p, "socket", [2, 1, 9]), ALLOW);
    assert.equal(verdict(p, "socket", [2, 1, 6]), ALLOW);
  }
  // arg1 == 1 → LOG comes after arg2 == 1 → TRAP whatever the profile order.
  const a: SeccompSyscall = {
    names: ["read"],
    action: "SCMP_ACT_LOG",
    args: [{ index: 1, value: 1, op: "SCMP_CMP_EQ" }],
  };
  const b: SeccompSyscall = {
    names: ["read"],
    action: "SCMP_ACT_TRAP",
    args: [{ index: 2, value: 1, op: "SCMP_CMP_EQ" }],
  };
  for (const syscalls of [[a, b], [b, a]]) {
    const p = compile({ defaultAction: "SCMP_ACT_ERRNO", syscalls });
    assert.equal(verdict(p, "read", [0, 1, 1]), SECCOMP_RET.TRAP);
    assert.equal(verdict(p, "read", [0, 1, 0]), SECCOMP_RET.LOG);
    assert.equal(verdict(p, "read", [0, 0, 1]), SECCOMP_RET.TRAP);
  }
  // On one argument: EQ before LE/LT before GE/GT.
  const p = compile({
    defaultAction: "SCMP_ACT_ERRNO",
    syscalls: [
      {
        names: ["read"],
        action: "SCMP_ACT_TRAP",
        args: [{ index: 0, value: 5, op: "SCMP_CMP_GT" }],
      },
      {
        names: ["read"],
        action: "SCMP_ACT_LOG",
        args: [{ index: 0, value: 9, op: "SCMP_CMP_LT" }],
      },
      {
        names: ["read"],
        action: "SCMP_ACT_ALLOW",
        args: [{ index: 0, value: 7, op: "SCMP_CMP_EQ" }],
      },
    ],
  });
  assert.equal(verdict(p, "read", [7]), ALLOW);
  assert.equal(verdict(p, "read", [6]), SECCOMP_RET.LOG);
  assert.equal(verdict(p, "read", [9]), SECCOMP_RET.TRAP);
  assert.equal(verdict(p, "read", [1]), SECCOMP_RET.LOG);
});

Deno.test("the same comparison with two different actions is refused, as by libseccomp", () => {
  assertConfigInvalid(
    () =>
      compileSeccomp({
        defaultAction: "SCMP_ACT_ERRNO",
        syscalls: [
          {
            names: ["read"],
            action: "SCMP_ACT_ALLOW",
            args: [{ index: 0, value: 1, op: "SCMP_CMP_EQ" }],
          },
          {
            names: ["read"],
            action: "SCMP_ACT_LOG",
            args: [{ index: 0, value: 1, op: "SCMP_CMP_EQ" }],
          },
        ],
      }, "x86_64"),
    /^linux\.seccomp\.syscalls\[1\]: a rule for "read" overlaps an earlier rule/,
  );
  // the same action twice is fine
  const p = compile({
    defaultAction: "SCMP_ACT_ERRNO",
    syscalls: [
      {
        names: ["read", "read"],
        action: "SCMP_ACT_ALLOW",
        args: [{ index: 0, value: 1, op: "SCMP_CMP_EQ" }],
      },
    ],
  });
  assert.equal(verdict(p, "read", [1]), ALLOW);
});

// ---------------------------------------------------------------------------------------
// Names, architectures, limits
// ---------------------------------------------------------------------------------------

Deno.test("names unknown on the architecture are skipped; unknownSyscallNames lists the rest", () => {
  const profile: Seccomp = {
    defaultAction: "SCMP_ACT_ERRNO",
    syscalls: [{
      names: ["open", "openat", "_llseek", "arm_fadvise64_64", "no_such_call", "arch_prctl"],
      action: "SCMP_ACT_ALLOW",
    }],
  };
  const x86 = compile(profile, "x86_64");
  assert.equal(verdict(x86, "open"), ALLOW);
  assert.equal(verdict(x86, "arch_prctl"), ALLOW);
  const arm = compile(profile, "aarch64");
  assert.equal(verdict(arm, "openat", [], "aarch64"), ALLOW);
  // 2, x86_64's number for open, is io_submit on aarch64: "open" does not touch it there
  assert.equal(run(arm, { nr: 2, arch: AUDIT_ARCH.aarch64 }), EPERM);
  assert.deepEqual(unknownSyscallNames(profile), ["_llseek", "arm_fadvise64_64", "no_such_call"]);
});

Deno.test("a foreign architecture gets KILL_THREAD (libseccomp's bad-arch action)", () => {
  for (const defaultAction of ["SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO"] as const) {
    const x86 = compile({ defaultAction, architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"] });
    const arm = compile({ defaultAction, architectures: ["SCMP_ARCH_AARCH64"] }, "aarch64");
    for (const arch of [0x40000003, /* i386 */ AUDIT_ARCH.aarch64, 0, 0xffffffff]) {
      assert.equal(run(x86, { nr: 0, arch }), KILL_THREAD);
    }
    for (const arch of [0x40000028, /* arm */ AUDIT_ARCH.x86_64]) {
      assert.equal(run(arm, { nr: 63, arch }), KILL_THREAD);
    }
  }
});

Deno.test("x86_64 refuses x32 syscall numbers with the bad-arch action; nr -1 takes the default", () => {
  const p = compile({
    defaultAction: "SCMP_ACT_ERRNO",
    syscalls: [{ names: ["read", "write"], action: "SCMP_ACT_ALLOW" }],
  });
  const arch = AUDIT_ARCH.x86_64;
  assert.equal(run(p, { nr: 0, arch }), ALLOW);
  assert.equal(run(p, { nr: X32_SYSCALL_BIT, arch }), KILL_THREAD); // x32 read
  assert.equal(run(p, { nr: X32_SYSCALL_BIT | 1, arch }), KILL_THREAD);
  assert.equal(run(p, { nr: 0x7fffffff, arch }), KILL_THREAD);
  assert.equal(run(p, { nr: 0xffffffff, arch }), EPERM);
  assert.equal(run(p, { nr: 0x3fffffff, arch }), EPERM);
  // aarch64 has no such ABI: those numbers are just unknown syscalls
  const a = compile({ defaultAction: "SCMP_ACT_ERRNO" }, "aarch64");
  assert.equal(run(a, { nr: X32_SYSCALL_BIT, arch: AUDIT_ARCH.aarch64 }), EPERM);
});

Deno.test("a filter over 4096 instructions is ConfigInvalid with the count", () => {
  // 1300 rules whose values differ in the high word: about 5 instructions each.
  const syscalls: SeccompSyscall[] = Array.from({ length: 1300 }, (_, i) => ({
    names: ["read"],
    action: i % 2 ? "SCMP_ACT_ALLOW" : "SCMP_ACT_LOG",
    args: [{ index: 0, value: BigInt(i + 1) << 32n, op: "SCMP_CMP_GT" }],
  }));
  assertConfigInvalid(
    () => compileSeccomp({ defaultAction: "SCMP_ACT_ERRNO", syscalls }, "x86_64"),
    /^linux\.seccomp: the filter needs \d{4,} instructions, the kernel allows 4096$/,
  );
  // far past the limit the compiler stops counting early
  const many: SeccompSyscall[] = Array.from({ length: 20000 }, (_, i) => ({
    names: ["read"],
    action: "SCMP_ACT_ALLOW",
    args: [{ index: 0, value: i, op: "SCMP_CMP_EQ" }],
  }));
  assertConfigInvalid(
    () => compileSeccomp({ defaultAction: "SCMP_ACT_ERRNO", syscalls: many }, "x86_64"),
    /^linux\.seccomp: the filter needs at least \d+ instructions, the kernel allows 4096$/,
  );
});

Deno.test("long programs: jumps past 255 instructions go through islands and stay exact", () => {
  // 1800 EQ values spread over 6 syscalls, actions alternating: many far jumps.
  const names = ["read", "write", "openat", "close", "mmap", "ioctl"];
  const syscalls: SeccompSyscall[] = Array.from({ length: 1800 }, (_, i) => ({
    names: [names[i % 6]],
    action: (["SCMP_ACT_ALLOW", "SCMP_ACT_LOG", "SCMP_ACT_TRAP"] as const)[i % 3],
    args: [{ index: 1, value: i, op: "SCMP_CMP_EQ" }],
  }));
  for (const arch of ARCHES) {
    const p = compile({ defaultAction: "SCMP_ACT_ERRNO", syscalls }, arch);
    assert.ok(p.length / 8 > 1800 && p.length / 8 <= BPF_MAXINSNS);
    const far = decode(p).filter((i) => i.code === 0x05 || i.jt > 200 || i.jf > 200);
    assert.ok(far.length > 0, "expected long jumps in this program");
    for (let i = 0; i < 1900; i += 7) {
      const want = i < 1800 ? [ALLOW, SECCOMP_RET.LOG, SECCOMP_RET.TRAP][i % 3] : EPERM;
      assert.equal(verdict(p, names[i % 6], [0, i], arch), want, `${names[i % 6]}(0, ${i})`);
      assert.equal(verdict(p, names[(i + 1) % 6], [0, i], arch), EPERM);
    }
  }
});

// ---------------------------------------------------------------------------------------
// Bad input
// ---------------------------------------------------------------------------------------

Deno.test("bad profiles are ConfigInvalid naming the JSON path", () => {
  const cases: [unknown, string][] = [
    [null, "linux.seccomp: expected an object, got null"],
    [{}, "linux.seccomp.defaultAction: expected an action, got undefined"],
    [
      { defaultAction: "SCMP_ACT_NOPE" },
      'linux.seccomp.defaultAction: unknown action "SCMP_ACT_NOPE"',
    ],
    [
      { defaultAction: "SCMP_ACT_NOTIFY" },
      "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be used as default action",
    ],
    [
      { defaultAction: "SCMP_ACT_ALLOW", defaultErrnoRet: 1 },
      "linux.seccomp.defaultErrnoRet: only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take an errno, not SCMP_ACT_ALLOW",
    ],
    [
      { defaultAction: "SCMP_ACT_ERRNO", defaultErrnoRet: -1 },
      "linux.seccomp.defaultErrnoRet: expected an errno from 0 to 65535, got -1",
    ],
    [
      { defaultAction: "SCMP_ACT_ERRNO", architectures: ["SCMP_ARCH_VAX"] },
      'linux.seccomp.architectures[0]: unknown value "SCMP_ARCH_VAX"',
    ],
    [
      { defaultAction: "SCMP_ACT_ERRNO", flags: ["SECCOMP_FILTER_FLAG_NEW_LISTENER"] },
      'linux.seccomp.flags[0]: unknown value "SECCOMP_FILTER_FLAG_NEW_LISTENER"',
    ],
    [
      { defaultAction: "SCMP_ACT_ERRNO", syscalls: {} },
      "linux.seccomp.syscalls: expected an array, got an object",
    ],
    [
      { defaultAction: "SCMP_ACT_ERRNO", syscalls: [{ names: [], action: "SCMP_ACT_ALLOW" }] },
      "linux.seccomp.syscalls[0].names: must name at least one syscall",
    ],
    [
      { defaultAction: "SCMP_ACT_ERRNO", syscalls: [{ names: "read", action: "SCMP_ACT_ALLOW" }] },
      'linux.seccomp.syscalls[0].names: expected an array of strings, got "read"',
    ],
    [
      {
        defaultAction: "SCMP_ACT_ERRNO",
        syscalls: [{ names: ["read", ""], action: "SCMP_ACT_ALLOW" }],
      },
      "linux.seccomp.syscalls[0].names[1]: empty syscall name",
    ],
    [
      {
        defaultAction: "SCMP_ACT_ERRNO",
        syscalls: [
          { names: ["read"], action: "SCMP_ACT_ALLOW" },
          { names: ["read"], action: "SCMP_ACT_ALLOW" },
          { names: ["read"], action: "SCMP_ACT_ALLOW" },
          { names: ["read"], action: "X" },
        ],
      },
      'linux.seccomp.syscalls[3].action: unknown action "X"',
    ],
    [
      {
        defaultAction: "SCMP_ACT_ERRNO",
        syscalls: [{ names: ["read"], action: "SCMP_ACT_NOTIFY" }],
      },
      "linux.seccomp.listenerPath: required by SCMP_ACT_NOTIFY (linux.seccomp.syscalls[0])",
    ],
    [
      {
        defaultAction: "SCMP_ACT_ERRNO",
        listenerPath: "/run/agent.sock",
        syscalls: [{ names: ["mkdir", "write"], action: "SCMP_ACT_NOTIFY" }],
      },
      "linux.seccomp.syscalls[0].names[1]: SCMP_ACT_NOTIFY cannot be used for the write syscall",
    ],
    [
      {
        defaultAction: "SCMP_ACT_ERRNO",
        syscalls: [{ names: ["read"], action: "SCMP_ACT_KILL", errnoRet: 1 }],
      },
      "linux.seccomp.syscalls[0].errnoRet: only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take an errno, not SCMP_ACT_KILL",
    ],
    [
      {
        defaultAction: "SCMP_ACT_ERRNO",
        syscalls: [{ names: ["read"], action: "SCMP_ACT_ERRNO", errnoRet: 70000 }],
      },
      "linux.seccomp.syscalls[0].errnoRet: expected an errno from 0 to 65535, got 70000",
    ],
    [
      {
        defaultAction: "SCMP_ACT_ERRNO",
        syscalls: [{
          names: ["read"],
          action: "SCMP_ACT_ALLOW",
          args: [{ index: 6, value: 0, op: "SCMP_CMP_EQ" }],
        }],
      },
      "linux.seccomp.syscalls[0].args[0].index: expected an argument index from 0 to 5, got 6",
    ],
    [
      {
        defaultAction: "SCMP_ACT_ERRNO",
        syscalls: [{
          names: ["read"],
          action: "SCMP_ACT_ALLOW",
          args: [{ index: 0, value: 0, op: "SCMP_CMP_XX" }],
        }],
      },
      'linux.seccomp.syscalls[0].args[0].op: unknown operator "SCMP_CMP_XX"',
    ],
    [
      {
        defaultAction: "SCMP_ACT_ERRNO",
        syscalls: [{
          names: ["read"],
          action: "SCMP_ACT_ALLOW",
          args: [{ index: 0, value: -1, op: "SCMP_CMP_EQ" }],
        }],
      },
      "linux.seccomp.syscalls[0].args[0].value: -1 is not a uint64",
    ],
    [
      {
        defaultAction: "SCMP_ACT_ERRNO",
        syscalls: [{
          names: ["read"],
          action: "SCMP_ACT_ALLOW",
          args: [{ index: 0, value: 2 ** 60, op: "SCMP_CMP_EQ" }],
        }],
      },
      "linux.seccomp.syscalls[0].args[0].value: 1152921504606847000 is above 2^53 and may not be the value written in the JSON; pass it as a bigint",
    ],
    [
      {
        defaultAction: "SCMP_ACT_ERRNO",
        syscalls: [{
          names: ["read"],
          action: "SCMP_ACT_ALLOW",
          args: [{ index: 0, value: 1, valueTwo: 1n << 64n, op: "SCMP_CMP_MASKED_EQ" }],
        }],
      },
      "linux.seccomp.syscalls[0].args[0].valueTwo: 18446744073709551616 is not a uint64",
    ],
    [
      {
        defaultAction: "SCMP_ACT_ERRNO",
        syscalls: [{
          names: ["read"],
          action: "SCMP_ACT_ALLOW",
          args: [{ index: 0, value: "1", op: "SCMP_CMP_EQ" }],
        }],
      },
      'linux.seccomp.syscalls[0].args[0].value: expected a uint64, got "1"',
    ],
  ];
  for (const [profile, message] of cases) {
    assertConfigInvalid(() => compileSeccomp(profile as Seccomp, "x86_64"), message);
  }
  assertConfigInvalid(
    () => compileSeccomp({ defaultAction: "SCMP_ACT_ALLOW" }, "riscv64" as SeccompTarget),
    'seccomp: unsupported architecture "riscv64"',
  );
});

Deno.test("optional fields may be null; unknown fields and listenerPath are ignored", () => {
  const p = compile({
    defaultAction: "SCMP_ACT_ERRNO",
    defaultErrnoRet: null,
    architectures: null,
    flags: null,
    listenerPath: "/run/agent.sock",
    comment: "a profile",
    syscalls: [{
      names: ["read"],
      action: "SCMP_ACT_ALLOW",
      args: null,
      errnoRet: null,
      comment: "",
    }],
  } as unknown as Seccomp);
  assert.equal(verdict(p, "read"), ALLOW);
  assert.equal(verdict(p, "write"), EPERM);
});

Deno.test("seccompFlags: TSYNC, LOG, SPEC_ALLOW bits; WAIT_KILLABLE_RECV adds none", () => {
  assert.equal(seccompFlags({ defaultAction: "SCMP_ACT_ALLOW" }), 0);
  assert.equal(
    seccompFlags({
      defaultAction: "SCMP_ACT_ALLOW",
      flags: [
        "SECCOMP_FILTER_FLAG_TSYNC",
        "SECCOMP_FILTER_FLAG_LOG",
        "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
      ],
    }),
    SECCOMP_FILTER_FLAG.TSYNC | SECCOMP_FILTER_FLAG.LOG | SECCOMP_FILTER_FLAG.SPEC_ALLOW,
  );
  assert.equal(
    seccompFlags({
      defaultAction: "SCMP_ACT_ALLOW",
      flags: ["SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", "SECCOMP_FILTER_FLAG_LOG"],
    }),
    SECCOMP_FILTER_FLAG.LOG,
  );
  assertConfigInvalid(
    () => seccompFlags({ defaultAction: "SCMP_ACT_ALLOW", flags: ["X"] } as unknown as Seccomp),
    'linux.seccomp.flags[0]: unknown value "X"',
  );
});

// ---------------------------------------------------------------------------------------
// A podman-like profile
// ---------------------------------------------------------------------------------------

Deno.test("a podman-like default profile", () => {
  for (const arch of ARCHES) {
    const p = compile(PODMAN_LIKE, arch);
    assert.ok(p.length / 8 < 400, `${arch}: ${p.length / 8} instructions`);
    const v = (name: string, args: (number | bigint)[] = []) => verdict(p, name, args, arch);
    for (const name of ["mount", "keyctl", "unshare", "setns", "pivot_root", "umount2", "bpf"]) {
      assert.equal(v(name), EPERM, name);
    }
    for (const name of ["read", "write", "openat", "exit_group", "close", "futex", "execve"]) {
      assert.equal(v(name), ALLOW, name);
    }
    assert.equal(v("personality", [8]), ALLOW);
    assert.equal(v("personality", [0xffffffff]), ALLOW);
    assert.equal(v("personality", [0x0400000]), EPERM); // READ_IMPLIES_EXEC
    assert.equal(v("personality", [0x1_0000_0008n]), EPERM);
    const SIGCHLD = 17, CLONE_NEWNS = 0x20000, CLONE_NEWUSER = 0x10000000, CLONE_THREAD = 0x10000;
    assert.equal(v("clone", [SIGCHLD]), ALLOW);
    assert.equal(v("clone", [CLONE_THREAD | 0x3d0f00]), ALLOW);
    assert.equal(v("clone", [0x1_0000_0000n | BigInt(SIGCHLD)]), ALLOW); // high word unmasked
    assert.equal(v("clone", [CLONE_NEWNS | SIGCHLD]), EPERM);
    assert.equal(v("clone", [CLONE_NEWUSER]), EPERM);
    assert.equal(v("clone3"), ERRNO(38));
    assert.equal(v("socket", [16, 3, 9]), ERRNO(22)); // AF_NETLINK, NETLINK_AUDIT
    assert.equal(v("socket", [16, 3, 0]), ALLOW);
    assert.equal(v("socket", [2, 1, 0]), ALLOW);
    if (arch === "x86_64") {
      assert.equal(v("arch_prctl"), ALLOW);
      assert.equal(v("open"), ALLOW);
      assert.equal(
        run(p, { nr: X32_SYSCALL_BIT | nr("mount"), arch: AUDIT_ARCH.x86_64 }),
        KILL_THREAD,
      );
    }
    assert.equal(run(p, { nr: 0, arch: 0x40000003 }), KILL_THREAD);
  }
});

// ---------------------------------------------------------------------------------------
// Property test
// ---------------------------------------------------------------------------------------

Deno.test("300 random profiles compile to valid programs or throw ConfigInvalid", () => {
  const rnd = prng(0x5ecc0);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const names = [...Object.keys(SYSCALLS_X86_64).slice(0, 60), "open", "_llseek", "bogus"];
  const actions = [
    "SCMP_ACT_ALLOW",
    "SCMP_ACT_ERRNO",
    "SCMP_ACT_KILL",
    "SCMP_ACT_KILL_PROCESS",
    "SCMP_ACT_TRAP",
    "SCMP_ACT_LOG",
    "SCMP_ACT_TRACE",
  ];
  const values = () =>
    pick([
      () => BigInt(Math.floor(rnd() * 16)),
      () => BigInt(Math.floor(rnd() * 2 ** 32)),
      () => BigInt(Math.floor(rnd() * 2 ** 32)) << 32n | BigInt(Math.floor(rnd() * 2 ** 32)),
      () => pick(INTERESTING),
    ])();
  const odd = () => pick<unknown>([-1, 1.5, "x", "", null, 2 ** 60, 6, {}, [], "SCMP_ACT_NOTIFY"]);
  let compiled = 0, refused = 0, largest = 0, tooLong = 0;
  for (let n = 0; n < 300; n++) {
    // Most profiles are small; one in five is large, conditional and on few syscalls, so
    // that the programs run into the thousands of instructions and past the limit.
    const large = rnd() < 0.2;
    const size = large ? 50 + rnd() * 1200 : 40;
    const pool = large ? names.slice(0, 8) : names;
    const oneAction = rnd() < 0.7; // different actions on the same tests conflict
    const syscalls: Record<string, unknown>[] = Array.from(
      { length: Math.floor(rnd() * size) },
      () => {
        const action = large && oneAction ? "SCMP_ACT_ALLOW" : pick(actions);
        const takesErrno = action === "SCMP_ACT_ERRNO" || action === "SCMP_ACT_TRACE";
        return {
          names: Array.from({ length: 1 + Math.floor(rnd() * 4) }, () => pick(pool)),
          action,
          ...(takesErrno && rnd() < 0.5 ? { errnoRet: Math.floor(rnd() * 200) } : {}),
          args: Array.from(
            { length: rnd() < (large ? 0.02 : 0.5) ? 0 : 1 + Math.floor(rnd() * 3) },
            () => ({
              index: Math.floor(rnd() * 6),
              op: pick([...OPS, "SCMP_CMP_MASKED_EQ"]),
              value: large ? BigInt(Math.floor(rnd() * 2 ** 53)) << 11n : values(),
              ...(rnd() < 0.5 ? { valueTwo: values() } : {}),
            }),
          ),
        };
      },
    );
    // One profile in five gets one bad field somewhere.
    if (syscalls.length > 0 && rnd() < 0.2) {
      const entry = pick(syscalls);
      const args = entry.args as Record<string, unknown>[];
      const field = pick([
        "names",
        "action",
        "errnoRet",
        "args",
        "index",
        "op",
        "value",
        "valueTwo",
      ]);
      if (["index", "op", "value", "valueTwo"].includes(field) && args.length > 0) {
        pick(args)[field] = odd();
      } else if (field === "names") {
        entry.names = pick([odd(), [odd()]]);
      } else {
        entry[field] = odd();
      }
    }
    const defaultAction = large && oneAction ? "SCMP_ACT_ERRNO" : pick(actions);
    const profile = { defaultAction, syscalls } as unknown as Seccomp;
    const arch = pick(ARCHES);
    let program: Uint8Array;
    try {
      program = compileSeccomp(profile, arch);
    } catch (e) {
      assert.ok(e instanceof ContainerError && e.code === "ConfigInvalid", `profile ${n}: ${e}`);
      assert.match(e.message, /^linux\.seccomp/);
      refused++;
      if (/the filter needs/.test(e.message)) tooLong++;
      continue;
    }
    compiled++;
    largest = Math.max(largest, program.length / 8);
    assert.ok(program.length / 8 <= BPF_MAXINSNS);
    assert.deepEqual(check(program), [], `profile ${n}`);
    for (let i = 0; i < 20; i++) {
      const data = {
        nr: rnd() < 0.9
          ? pick(Object.values(arch === "x86_64" ? SYSCALLS_X86_64 : SYSCALLS_AARCH64))
          : Math.floor(rnd() * 2 ** 32),
        arch: rnd() < 0.95 ? AUDIT_ARCH[arch] : 0x40000003,
        args: Array.from({ length: 6 }, values),
      };
      run(program, data); // returns without leaving the program
    }
  }
  assert.ok(compiled > 100 && refused > 10, `compiled ${compiled}, refused ${refused}`);
  assert.ok(largest > 2000 && tooLong > 0, `largest ${largest}, too long ${tooLong}`);
});

// ---------------------------------------------------------------------------------------
// Cache
// ---------------------------------------------------------------------------------------

Deno.test("compileSeccompCached: keyed by content, returns copies, bounded", () => {
  clearSeccompCache();
  const a: Seccomp = {
    defaultAction: "SCMP_ACT_ERRNO",
    syscalls: [{ names: ["read"], action: "SCMP_ACT_ALLOW" }],
  };
  const b = JSON.parse(
    `{"syscalls":[{"action":"SCMP_ACT_ALLOW","names":["read"]}],"defaultAction":"SCMP_ACT_ERRNO"}`,
  );
  assert.equal(seccompCacheKey(a, "x86_64"), seccompCacheKey(b, "x86_64"));
  assert.notEqual(seccompCacheKey(a, "x86_64"), seccompCacheKey(a, "aarch64"));
  assert.notEqual(
    seccompCacheKey({ ...a, defaultErrnoRet: 38 }, "x86_64"),
    seccompCacheKey(a, "x86_64"),
  );
  const first = compileSeccompCached(a, "x86_64");
  assert.deepEqual(first, compileSeccomp(a, "x86_64"));
  first.fill(0); // a caller scribbling on its copy does not reach the cache
  const second = compileSeccompCached(b, "x86_64");
  assert.deepEqual(second, compileSeccomp(a, "x86_64"));
  assert.equal(seccompCacheSize(), 1);
  compileSeccompCached(a, "aarch64");
  assert.equal(seccompCacheSize(), 2);
  for (let i = 0; i < SECCOMP_CACHE_SIZE + 10; i++) {
    compileSeccompCached({ defaultAction: "SCMP_ACT_ERRNO", defaultErrnoRet: i }, "x86_64");
  }
  assert.equal(seccompCacheSize(), SECCOMP_CACHE_SIZE);
  assert.throws(() => compileSeccompCached({ defaultAction: "X" } as unknown as Seccomp, "x86_64"));
  assert.equal(seccompCacheSize(), SECCOMP_CACHE_SIZE);
  // bigints are part of the key
  const big = (v: bigint): Seccomp => ({
    defaultAction: "SCMP_ACT_ERRNO",
    syscalls: [{
      names: ["read"],
      action: "SCMP_ACT_ALLOW",
      args: [{ index: 0, value: v, op: "SCMP_CMP_EQ" }],
    }],
  });
  assert.notEqual(
    seccompCacheKey(big(1n << 60n), "x86_64"),
    seccompCacheKey(big(1n << 61n), "x86_64"),
  );
  clearSeccompCache();
});

Deno.test("SCMP_ACT_NOTIFY is USER_NOTIF, and the filter gets a listener", () => {
  const profile: Seccomp = {
    defaultAction: "SCMP_ACT_ALLOW",
    listenerPath: "/run/agent.sock",
    flags: ["SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"],
    syscalls: [{ names: ["mkdirat"], action: "SCMP_ACT_NOTIFY" }],
  };
  const p = compile(profile);
  assert.equal(verdict(p, "mkdirat"), SECCOMP_RET.USER_NOTIF);
  assert.equal(verdict(p, "read"), ALLOW);
  assert.equal(
    seccompFlags(profile),
    SECCOMP_FILTER_FLAG.NEW_LISTENER | SECCOMP_FILTER_FLAG.WAIT_KILLABLE_RECV,
  );
  assert.equal(seccompFlags({ ...profile, syscalls: [] }), 0, "no notify rule, no listener");
});

Deno.test("syscalls newer than every one the profile names get ENOSYS, as runc's patched filter", () => {
  for (const arch of ARCHES) {
    const own = arch === "x86_64" ? "SCMP_ARCH_X86_64" : "SCMP_ARCH_AARCH64";
    const profile = (over: Partial<Seccomp>): Seccomp => ({
      defaultAction: "SCMP_ACT_ERRNO",
      architectures: [own],
      syscalls: [
        { names: ["read", "write"], action: "SCMP_ACT_ALLOW" },
        // Equal to the default, so no rule, but it names the newest call the profile knows.
        { names: ["openat"], action: "SCMP_ACT_ERRNO" },
      ],
      ...over,
    });
    const last = Math.max(...["read", "write", "openat"].map((name) => nr(name, arch)));
    const at = (p: Uint8Array, n: number) => run(p, { nr: n, arch: AUDIT_ARCH[arch] });
    const p = compile(profile({}), arch);
    assert.equal(verdict(p, "read", [], arch), ALLOW);
    assert.equal(verdict(p, "openat", [], arch), EPERM, "named, but refused like the default");
    assert.equal(verdict(p, "close", [], arch), EPERM, "older than the newest named: the default");
    assert.equal(at(p, last + 1), ERRNO(38));
    assert.equal(at(p, 1000), ERRNO(38));
    if (arch === "x86_64") {
      assert.equal(at(p, 0xffffffff), EPERM, "nr -1 (a tracer's skip) keeps the default");
      assert.equal(at(p, X32_SYSCALL_BIT + 1), KILL_THREAD);
    }
    // No stub: a permissive default, the architecture not listed, ENOSYS already the default.
    const allow = compile(profile({ defaultAction: "SCMP_ACT_LOG" }), arch);
    assert.equal(at(allow, last + 1), SECCOMP_RET.LOG);
    const other = compile(profile({ architectures: ["SCMP_ARCH_X86"] }), arch);
    assert.equal(at(other, last + 1), EPERM);
    const none = compile(profile({ architectures: undefined }), arch);
    assert.equal(at(none, last + 1), EPERM);
    const native = compile(profile({ architectures: ["SCMP_ARCH_NATIVE"] }), arch);
    assert.equal(at(native, last + 1), ERRNO(38));
    const kill = compile(profile({ defaultAction: "SCMP_ACT_KILL_PROCESS" }), arch);
    assert.equal(at(kill, last + 1), ERRNO(38));
    assert.equal(verdict(kill, "openat", [], arch), EPERM, "a rule of its own now");
    assert.equal(verdict(kill, "close", [], arch), SECCOMP_RET.KILL_PROCESS);
  }
});
