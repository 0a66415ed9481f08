/**
 * The seccomp compiler against libseccomp (the host's library, through FFI, driven as runc
 * drives it): the same decisions on random profiles and on a podman-like one.
 *
 * @module
 */

import assert from "node:assert/strict";
import { ContainerError } from "../../src/errors.ts";
import {
  AUDIT_ARCH,
  compileSeccomp,
  type Seccomp,
  type SeccompSyscall,
  type SeccompTarget,
  syscallNumber,
  X32_SYSCALL_BIT,
} from "../../src/seccomp/compile.ts";
import { SYSCALLS_X86_64 } from "../../src/seccomp/syscalls_x86_64.ts";
import { SYSCALLS_AARCH64 } from "../../src/seccomp/syscalls_aarch64.ts";
import { run } from "../support/cbpf.ts";

import {
  ARCHES,
  ERRNO,
  nr,
  OPS,
  pick,
  PODMAN_LIKE,
  prng,
  U64,
} from "../support/seccomp_fixtures.ts";

// ---------------------------------------------------------------------------------------
// libseccomp, where the host has it
// ---------------------------------------------------------------------------------------

/** libseccomp through FFI, driven the way runc drives it; null when the host has none. */
function openLibseccomp() {
  try {
    return Deno.dlopen("libseccomp.so.2", {
      seccomp_init: { parameters: ["u32"], result: "pointer" },
      seccomp_release: { parameters: ["pointer"], result: "void" },
      seccomp_arch_add: { parameters: ["pointer", "u32"], result: "i32" },
      seccomp_arch_remove: { parameters: ["pointer", "u32"], result: "i32" },
      seccomp_arch_native: { parameters: [], result: "u32" },
      seccomp_rule_add_array: {
        parameters: ["pointer", "u32", "i32", "u32", "buffer"],
        result: "i32",
      },
      seccomp_syscall_resolve_name: { parameters: ["buffer"], result: "i32" },
      seccomp_export_bpf: { parameters: ["pointer", "i32"], result: "i32" },
    });
  } catch {
    return null;
  }
}

const libseccomp = openLibseccomp();

/** libseccomp's program for the profile (runc's way of adding rules), or null if it refuses. */
function libseccompProgram(profile: Seccomp, arch: SeccompTarget): Uint8Array | null {
  const lib = libseccomp!;
  const libc = Deno.dlopen("libc.so.6", {
    memfd_create: { parameters: ["buffer", "u32"], result: "i32" },
    close: { parameters: ["i32"], result: "i32" },
  });
  const cstr = (s: string) => new TextEncoder().encode(s + "\0");
  const value = (action: string, errno?: number) => {
    const p = compileSeccomp({ defaultAction: action, defaultErrnoRet: errno } as Seccomp, arch);
    return run(p, { nr: 0, arch: AUDIT_ARCH[arch] });
  };
  const ops: Record<string, number> = {
    SCMP_CMP_NE: 1,
    SCMP_CMP_LT: 2,
    SCMP_CMP_LE: 3,
    SCMP_CMP_EQ: 4,
    SCMP_CMP_GE: 5,
    SCMP_CMP_GT: 6,
    SCMP_CMP_MASKED_EQ: 7,
  };
  const def = value(profile.defaultAction, profile.defaultErrnoRet);
  const ctx = lib.symbols.seccomp_init(def);
  try {
    const native = lib.symbols.seccomp_arch_native();
    if (native !== AUDIT_ARCH[arch]) {
      assert.equal(lib.symbols.seccomp_arch_add(ctx, AUDIT_ARCH[arch]), 0);
      assert.equal(lib.symbols.seccomp_arch_remove(ctx, native), 0);
    }
    for (const s of profile.syscalls ?? []) {
      const action = value(s.action, s.errnoRet);
      if (action === def) continue;
      // Names the architecture lacks are skipped by both; libseccomp 2.5 can lose its
      // syscall-number load when such a rule is in a foreign-arch filter, so never add them.
      for (const name of s.names.filter((x) => syscallNumber(arch, x) !== undefined)) {
        const n = lib.symbols.seccomp_syscall_resolve_name(cstr(name));
        if (n === -10101) continue; // __NR_SCMP_ERROR: unknown name
        const args = s.args ?? [];
        const split = new Set(args.map((a) => a.index)).size !== args.length;
        for (const group of split ? args.map((a) => [a]) : [args]) {
          const buf = new Uint8Array(24 * Math.max(1, group.length));
          const view = new DataView(buf.buffer);
          group.forEach((a, i) => {
            view.setUint32(24 * i, a.index, true);
            view.setUint32(24 * i + 4, ops[a.op], true);
            view.setBigUint64(24 * i + 8, BigInt(a.value), true);
            view.setBigUint64(24 * i + 16, BigInt(a.valueTwo ?? 0), true);
          });
          if (lib.symbols.seccomp_rule_add_array(ctx, action, n, group.length, buf) !== 0) {
            return null;
          }
        }
      }
    }
    const fd = libc.symbols.memfd_create(cstr("bpf"), 0);
    try {
      assert.equal(lib.symbols.seccomp_export_bpf(ctx, fd), 0);
      return Deno.readFileSync(`/proc/self/fd/${fd}`);
    } finally {
      libc.symbols.close(fd);
    }
  } finally {
    lib.symbols.seccomp_release(ctx);
    libc.close();
  }
}

Deno.test({
  name: "libseccomp (host library) decides the same as cell on random single-condition profiles",
  ignore: libseccomp === null,
  fn() {
    // Rules of at most one condition: libseccomp's generated code for deeper trees can
    // compare a stale accumulator, and its trees share subtrees between branches, which
    // cell does not reproduce (see compile.ts), so those are left out here.
    const rnd = prng(0x11b5ecc);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
    const names = ["read", "write", "personality", "clone", "open", "socket"];
    const actions = [
      "SCMP_ACT_ALLOW",
      "SCMP_ACT_ERRNO",
      "SCMP_ACT_TRAP",
      "SCMP_ACT_LOG",
      "SCMP_ACT_KILL",
    ];
    const values = [0n, 1n, 5n, 0xffn, 0xffffffffn, 0x100000000n, 0x100000005n, 1n << 63n, U64];
    let agreed = 0, refused = 0;
    for (let n = 0; n < 150; n++) {
      const arch = pick(ARCHES);
      const profile: Seccomp = {
        defaultAction: pick(actions) as Seccomp["defaultAction"],
        syscalls: Array.from({ length: 1 + Math.floor(rnd() * 8) }, () => {
          const op = pick([...OPS, "SCMP_CMP_MASKED_EQ"] as const);
          return {
            names: [pick(names)],
            action: pick(actions) as SeccompSyscall["action"],
            ...(rnd() < 0.3 ? { errnoRet: Math.floor(rnd() * 3) } : {}),
            args: rnd() < 0.25 ? [] : [{
              index: Math.floor(rnd() * 3),
              op,
              value: pick(values),
              ...(op === "SCMP_CMP_MASKED_EQ" ? { valueTwo: pick(values) } : {}),
            }],
          };
        }),
      };
      for (const s of profile.syscalls!) {
        if (s.action !== "SCMP_ACT_ERRNO" && s.action !== "SCMP_ACT_TRACE") delete s.errnoRet;
      }
      const theirs = libseccompProgram(profile, arch);
      let mine: Uint8Array | null = null;
      try {
        mine = compileSeccomp(profile, arch);
      } catch (e) {
        assert.ok(e instanceof ContainerError);
      }
      assert.equal(
        mine === null,
        theirs === null,
        JSON.stringify(profile, (_, v) => (typeof v === "bigint" ? `${v}` : v)),
      );
      if (!mine || !theirs) {
        refused++;
        continue;
      }
      for (let i = 0; i < 300; i++) {
        const data = {
          nr: nr(pick(names.filter((x) => syscallNumber(arch, x) !== undefined)), arch),
          arch: AUDIT_ARCH[arch],
          args: Array.from({ length: 6 }, () => {
            const v = pick(values);
            return BigInt.asUintN(64, pick([v, v + 1n, v - 1n, v ^ (1n << 32n)]));
          }),
        };
        assert.equal(
          run(mine, data),
          run(theirs, data),
          JSON.stringify(
            { profile, data },
            (_, v) => (typeof v === "bigint" ? `0x${v.toString(16)}` : v),
          ),
        );
      }
      agreed++;
    }
    assert.ok(agreed > 100, `agreed ${agreed}, refused ${refused}`);
  },
});

Deno.test({
  name: "libseccomp (host library) decides the same as cell on the podman-like profile",
  ignore: libseccomp === null,
  fn() {
    const rnd = prng(7);
    for (const arch of ARCHES) {
      const theirs = libseccompProgram(PODMAN_LIKE, arch)!;
      const mine = compileSeccomp(PODMAN_LIKE, arch);
      const table = arch === "x86_64" ? SYSCALLS_X86_64 : SYSCALLS_AARCH64;
      // runc's -ENOSYS stub (libseccomp alone has none): numbers past every named one.
      const named = PODMAN_LIKE.syscalls!.flatMap((s) => s.names)
        .map((name) => syscallNumber(arch, name) ?? -1);
      const last = Math.max(...named);
      const stub = PODMAN_LIKE.architectures!.includes(
        arch === "x86_64" ? "SCMP_ARCH_X86_64" : "SCMP_ARCH_AARCH64",
      );
      for (const n of [...Object.values(table), 0xffffffff, X32_SYSCALL_BIT, X32_SYSCALL_BIT + 2]) {
        for (let i = 0; i < 12; i++) {
          const data = {
            nr: n,
            arch: i === 0 ? 0x40000003 : AUDIT_ARCH[arch],
            args: Array.from(
              { length: 6 },
              () =>
                pick(rnd, [
                  0n,
                  8n,
                  9n,
                  16n,
                  17n,
                  0x20000n,
                  0xffffffffn,
                  0x1_0000_0011n,
                  0x7e020000n,
                ]),
            ),
          };
          const newer = stub && data.arch === AUDIT_ARCH[arch] && n > last &&
            (arch !== "x86_64" || n < X32_SYSCALL_BIT);
          assert.equal(run(mine, data), newer ? ERRNO(38) : run(theirs, data), `${arch} nr ${n}`);
        }
      }
    }
  },
});
