/**
 * The seccomp compiler's parts on their own, without root: the profile check (every problem
 * at its JSON path, as the rest of the config validator reports them), the decision tree's
 * refusals, the code generator's length limit and the assembler's jump islands.
 *
 * @module
 */

import assert from "node:assert/strict";
import { ContainerError } from "../../src/errors.ts";
import type { Problems } from "../../src/config/problems.ts";
import { validateSeccomp } from "../../src/config/validate_seccomp.ts";
import { Assembler, BPF } from "../../src/seccomp/assembler.ts";
import { checkProfile, seccompFlags } from "../../src/seccomp/check_profile.ts";
import { generateProgram } from "../../src/seccomp/codegen.ts";
import { compileProfile, compileSeccomp } from "../../src/seccomp/compile.ts";
import { SECCOMP_RET, syscallNumber } from "../../src/seccomp/kernel.ts";
import type { Seccomp } from "../../src/seccomp/profile.ts";
import { decideSyscalls } from "../../src/seccomp/tree.ts";
import { check, decode, run } from "../support/cbpf.ts";

const ERRNO = (e: number) => (SECCOMP_RET.ERRNO | e) >>> 0;

/** A profile with one problem in each part the check reads. */
const MANY_PROBLEMS = {
  defaultAction: "SCMP_ACT_NOPE",
  architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_VAX"],
  flags: ["SECCOMP_FILTER_FLAG_LOG", 7],
  listenerMetadata: 3,
  syscalls: [
    { names: ["read"], action: "SCMP_ACT_ALLOW" },
    { names: [], action: "SCMP_ACT_ALLOW", errnoRet: 1 },
    "read",
    {
      names: ["write", ""],
      action: "SCMP_ACT_ERRNO",
      errnoRet: 70000,
      args: [{ index: 6, value: -1, op: "SCMP_CMP_XX" }, { index: 0, value: 1n << 64n, op: 3 }],
    },
    { names: ["mkdir", "write"], action: "SCMP_ACT_NOTIFY", args: {} },
  ],
};

/** What the check says of MANY_PROBLEMS, in the order it reads the profile. */
const MANY_PROBLEMS_FOUND = [
  'linux.seccomp.defaultAction: unknown action "SCMP_ACT_NOPE"',
  'linux.seccomp.architectures[1]: unknown value "SCMP_ARCH_VAX"',
  "linux.seccomp.flags[1]: expected a string, got 7",
  "linux.seccomp.listenerMetadata: expected a string, got 3",
  "linux.seccomp.syscalls[1].names: must name at least one syscall",
  "linux.seccomp.syscalls[1].errnoRet: only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take an errno, not SCMP_ACT_ALLOW",
  'linux.seccomp.syscalls[2]: expected an object, got "read"',
  "linux.seccomp.syscalls[3].names[1]: empty syscall name",
  "linux.seccomp.syscalls[3].errnoRet: expected an errno from 0 to 65535, got 70000",
  "linux.seccomp.syscalls[3].args[0].index: expected an argument index from 0 to 5, got 6",
  'linux.seccomp.syscalls[3].args[0].op: unknown operator "SCMP_CMP_XX"',
  "linux.seccomp.syscalls[3].args[0].value: -1 is not a uint64",
  "linux.seccomp.syscalls[3].args[1].op: expected an operator, got 3",
  "linux.seccomp.syscalls[3].args[1].value: 18446744073709551616 is not a uint64",
  "linux.seccomp.listenerPath: required by SCMP_ACT_NOTIFY (linux.seccomp.syscalls[4])",
  "linux.seccomp.syscalls[4].names[1]: SCMP_ACT_NOTIFY cannot be used for the write syscall",
  "linux.seccomp.syscalls[4].args: expected an array, got an object",
];

Deno.test("the profile check reports every problem at its JSON path, in reading order", () => {
  const problems: Problems = [];
  assert.equal(checkProfile(problems, MANY_PROBLEMS), undefined);
  assert.deepEqual(problems, MANY_PROBLEMS_FOUND);
});

Deno.test("compileSeccomp throws them all, one a line; the first is what it threw alone", () => {
  assert.throws(
    () => compileSeccomp(MANY_PROBLEMS as unknown as Seccomp, "x86_64"),
    (e: unknown) => {
      assert.ok(e instanceof ContainerError);
      assert.equal(e.code, "ConfigInvalid");
      const lines = e.message.split("\n");
      assert.equal(lines.length, MANY_PROBLEMS_FOUND.length);
      assert.equal(lines[0], 'linux.seccomp.defaultAction: unknown action "SCMP_ACT_NOPE"');
      return true;
    },
  );
});

Deno.test("validateSeccomp records the check's problems as they are, with nothing split or added", () => {
  const problems: Problems = ["an earlier problem"];
  assert.equal(validateSeccomp(problems, MANY_PROBLEMS), undefined);
  assert.equal(problems.length, 1 + MANY_PROBLEMS_FOUND.length);
  assert.equal(problems[0], "an earlier problem");
  for (const line of MANY_PROBLEMS_FOUND) assert.ok(problems.includes(line), line);
  // not an object: the config validator's own wording
  const notObject: Problems = [];
  assert.equal(validateSeccomp(notObject, []), undefined);
  assert.deepEqual(notObject, ["linux.seccomp: must be an object"]);
  // a good profile comes back as given
  const good = { defaultAction: "SCMP_ACT_ERRNO", syscalls: [] };
  const none: Problems = [];
  assert.equal(validateSeccomp(none, good), good);
  assert.deepEqual(none, []);
});

Deno.test("the profile check reads own fields only; null is absent for optional fields only", () => {
  const inherited = Object.create({ defaultAction: "SCMP_ACT_ALLOW", syscalls: "x" });
  const problems: Problems = [];
  assert.equal(checkProfile(problems, inherited), undefined);
  assert.deepEqual(problems, ["linux.seccomp.defaultAction: expected an action, got undefined"]);
  const nulls: Problems = [];
  checkProfile(nulls, {
    defaultAction: null,
    defaultErrnoRet: null,
    syscalls: [{ names: null, action: "SCMP_ACT_ALLOW", errnoRet: null, args: null }],
  });
  assert.deepEqual(nulls, [
    "linux.seccomp.defaultAction: expected an action, got null",
    "linux.seccomp.syscalls[0].names: expected an array of strings, got null",
  ]);
});

Deno.test("the checked profile: actions as values, runc's split, rules equal to the default dropped", () => {
  const problems: Problems = [];
  const profile = checkProfile(problems, {
    defaultAction: "SCMP_ACT_ERRNO",
    defaultErrnoRet: 38,
    architectures: ["SCMP_ARCH_X86_64"],
    syscalls: [
      { names: ["read"], action: "SCMP_ACT_ERRNO", errnoRet: 38 },
      {
        names: ["write"],
        action: "SCMP_ACT_TRACE",
        errnoRet: 5,
        args: [
          { index: 1, value: 3, op: "SCMP_CMP_GT" },
          { index: 1, value: 9n, op: "SCMP_CMP_LT" },
        ],
      },
      {
        names: ["openat", "nosuchcall"],
        action: "SCMP_ACT_ALLOW",
        args: [{ index: 2, value: 0xf0, valueTwo: 0x10, op: "SCMP_CMP_MASKED_EQ" }],
      },
    ],
  });
  assert.deepEqual(problems, []);
  const all = (1n << 64n) - 1n;
  assert.deepEqual(profile, {
    defaultAction: ERRNO(38),
    architectures: ["SCMP_ARCH_X86_64"],
    names: ["read", "write", "openat", "nosuchcall"],
    rules: [
      {
        path: "linux.seccomp.syscalls[1]",
        action: (SECCOMP_RET.TRACE | 5) >>> 0,
        names: ["write"],
        alternatives: [
          [{ arg: 1, op: "GT", mask: all, datum: 3n }],
          [{ arg: 1, op: "LT", mask: all, datum: 9n }],
        ],
      },
      {
        path: "linux.seccomp.syscalls[2]",
        action: SECCOMP_RET.ALLOW,
        names: ["openat", "nosuchcall"],
        alternatives: [[{ arg: 2, op: "MASKED_EQ", mask: 0xf0n, datum: 0x10n }]],
      },
    ],
  });
});

Deno.test("seccompFlags reports every bad flag", () => {
  assert.throws(
    () => seccompFlags({ defaultAction: "SCMP_ACT_ALLOW", flags: ["X", 1] } as unknown as Seccomp),
    (e: unknown) =>
      e instanceof ContainerError && e.code === "ConfigInvalid" &&
      e.message === 'linux.seccomp.flags[0]: unknown value "X"\n' +
          "linux.seccomp.flags[1]: expected a string, got 1",
  );
});

Deno.test("the decision tree records a merge conflict at the rule's path and stops", () => {
  const read = { index: 0, value: 1, op: "SCMP_CMP_EQ" };
  const problems: Problems = [];
  const profile = checkProfile(problems, {
    defaultAction: "SCMP_ACT_ERRNO",
    syscalls: [
      { names: ["read"], action: "SCMP_ACT_ALLOW", args: [read] },
      { names: ["write"], action: "SCMP_ACT_ALLOW" },
      { names: ["write", "read"], action: "SCMP_ACT_LOG", args: [read] },
    ],
  })!;
  assert.deepEqual(problems, []);
  const conflict = (rule: number) =>
    `linux.seccomp.syscalls[${rule}]: a rule for "read" overlaps an earlier rule for it with ` +
    "a different action in a way libseccomp cannot merge (runc refuses this profile too)";
  const found: Problems = [];
  assert.equal(decideSyscalls(found, profile, "x86_64"), undefined);
  assert.deepEqual(found, [conflict(2)]);
  // the same through the validator: the path is the rule's, the text whole
  const viaConfig: Problems = [];
  validateSeccomp(viaConfig, {
    defaultAction: "SCMP_ACT_ERRNO",
    syscalls: [
      { names: ["read"], action: "SCMP_ACT_ALLOW", args: [read] },
      { names: ["read"], action: "SCMP_ACT_LOG", args: [read] },
    ],
  });
  assert.deepEqual(viaConfig, [conflict(1)]);
});

Deno.test("decisions: the first unconditional rule decides; names without a number are skipped", () => {
  const problems: Problems = [];
  const profile = checkProfile(problems, {
    defaultAction: "SCMP_ACT_ERRNO",
    syscalls: [
      {
        names: ["read"],
        action: "SCMP_ACT_LOG",
        args: [{ index: 0, value: 1, op: "SCMP_CMP_EQ" }],
      },
      { names: ["read", "arm_fadvise64_64"], action: "SCMP_ACT_ALLOW" },
      { names: ["read"], action: "SCMP_ACT_TRAP" },
    ],
  })!;
  const decisions = decideSyscalls(problems, profile, "x86_64")!;
  assert.deepEqual(problems, []);
  assert.deepEqual([...decisions.keys()], [syscallNumber("x86_64", "read")]);
  const read = decisions.get(syscallNumber("x86_64", "read")!)!;
  assert.equal(read.uncond, SECCOMP_RET.ALLOW);
  assert.deepEqual(read.tree, []);
});

Deno.test("the code generator records a program over the kernel's limit", () => {
  const problems: Problems = [];
  // 1300 rules on high words: the tree is under the early estimate, the program over 4096
  const profile = checkProfile(problems, highWordRules(1300))!;
  const decisions = decideSyscalls(problems, profile, "x86_64")!;
  assert.deepEqual(problems, []);
  assert.equal(generateProgram(problems, profile, decisions, "x86_64"), undefined);
  assert.equal(problems.length, 1);
  assert.match(
    problems[0],
    /^linux\.seccomp: the filter needs \d{4,} instructions, the kernel allows 4096$/,
  );
  // compileProfile gives the same, without throwing
  const again: Problems = [];
  assert.equal(compileProfile(again, highWordRules(1300), "x86_64"), undefined);
  assert.deepEqual(again, problems);
});

/** `rules` GT rules on `read` whose values differ in the high word, actions alternating. */
function highWordRules(rules: number): Seccomp {
  return {
    defaultAction: "SCMP_ACT_ERRNO",
    syscalls: Array.from({ length: rules }, (_, i) => ({
      names: ["read"],
      action: i % 2 ? "SCMP_ACT_ALLOW" : "SCMP_ACT_LOG",
      args: [{ index: 0, value: BigInt(i + 1) << 32n, op: "SCMP_CMP_GT" }],
    })),
  };
}

Deno.test("the assembler sends jumps past 255 instructions through islands", () => {
  const asm = new Assembler();
  const far = asm.label(), near = asm.label();
  // nr == 7 jumps past 400 loads to a load (not a return), else returns ALLOW at once
  asm.emit(BPF.LD_W_ABS, 0);
  asm.emit(BPF.JEQ_K, 7, far, near);
  asm.bind(near);
  asm.emit(BPF.RET_K, SECCOMP_RET.ALLOW);
  for (let i = 0; i < 400; i++) asm.emit(BPF.LD_W_ABS, 0);
  asm.bind(far);
  asm.emit(BPF.LD_W_ABS, 0);
  asm.emit(BPF.RET_K, SECCOMP_RET.TRAP);
  const program = asm.finish();
  assert.deepEqual(check(program), []);
  const insns = decode(program);
  assert.ok(insns.length > 404, "an island was added");
  assert.ok(insns.some((i) => i.code === BPF.JA), "the far target is no return: a ja island");
  assert.equal(run(program, { nr: 7, arch: 0 }), SECCOMP_RET.TRAP);
  assert.equal(run(program, { nr: 8, arch: 0 }), SECCOMP_RET.ALLOW);
  // jumps to a shared return are sent to a copy of the return instead
  const shared = new Assembler();
  shared.emit(BPF.LD_W_ABS, 0);
  for (const k of [7, ...Array.from({ length: 300 }, (_, i) => 1000 + i)]) {
    const next = shared.label();
    shared.emit(BPF.JEQ_K, k, shared.ret(SECCOMP_RET.LOG), next);
    shared.bind(next);
  }
  shared.emit(BPF.RET_K, ERRNO(1));
  const copies = shared.finish();
  assert.deepEqual(check(copies), []);
  assert.ok(!decode(copies).some((i) => i.code === BPF.JA), "returns are copied, not jumped to");
  assert.equal(run(copies, { nr: 7, arch: 0 }), SECCOMP_RET.LOG);
  assert.equal(run(copies, { nr: 1299, arch: 0 }), SECCOMP_RET.LOG);
  assert.equal(run(copies, { nr: 5, arch: 0 }), ERRNO(1));
});
