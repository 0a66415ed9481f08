/**
 * Compiles the OCI `linux.seccomp` section to a classic BPF program, the kind
 * `seccomp(SECCOMP_SET_MODE_FILTER)` loads: 8-byte `struct sock_filter` entries (u16 code,
 * u8 jt, u8 jf, u32 k, little-endian).
 *
 * The filter decides what libseccomp (as driven by runc) decides for the same profile:
 *
 * - **Architecture.** Only the target architecture (`x86_64` or `aarch64`) is compiled. A
 *   syscall made under any other audit architecture gets libseccomp's "bad arch" action,
 *   `SECCOMP_RET_KILL_THREAD`, even when `architectures` lists it (runc would filter
 *   i386/x32/arm calls with their own tables; cell refuses them). On x86_64 a syscall
 *   number with the x32 bit (0x40000000) set gets the same bad-arch action, except
 *   `nr == -1` (what a tracer uses to skip a call), which takes the normal path.
 * - **Names.** A name that has no number on the target architecture is skipped, as runc
 *   and libseccomp do; profiles routinely name calls of other architectures (`_llseek`,
 *   `arm_fadvise64_64`, `open` on aarch64). That holds for names unknown everywhere too:
 *   {@linkcode unknownSyscallNames} lists them for a warning.
 * - **Rules equal to the default.** A rule whose action (with its errno) equals the
 *   default action is skipped, as runc does (libseccomp refuses such rules).
 * - **Arguments.** Each comparison is on the full 64-bit argument, high word then low
 *   word. `SCMP_CMP_MASKED_EQ` tests `(arg & value) == (valueTwo & value)`; a mask of 0
 *   makes the comparison always true (libseccomp drops it). The conditions of one rule
 *   are ANDed. When one rule has two conditions on the same argument index it is split
 *   into one single-condition rule per condition (ORed), which is what runc does.
 * - **Several rules for one syscall** (libseccomp's rule database, not profile order):
 *   the first unconditional rule for a syscall decides it, and every conditional rule for
 *   that syscall, before or after, is dropped. Conditional rules are merged into a
 *   decision tree whose every level is ordered the way libseccomp orders it: comparisons
 *   on a higher argument index first (a rule's first comparison is on its lowest index),
 *   then `EQ`/`NE`/`MASKED_EQ` before `LT`/`LE` before `GT`/`GE`, then by value
 *   (descending; ascending for `LT`/`LE`), then in the order the rules were added
 *   (profile order, then `names` order). Identical comparisons are shared. The first
 *   rule found along that order whose conditions all hold decides; when none does, the
 *   default action. A rule that extends a shorter rule with the same prefix is absorbed
 *   by it. Two rules that libseccomp cannot merge (the same comparison leading to
 *   different actions) make the profile invalid, as they make runc fail. A 64-bit
 *   comparison is a small tree of 32-bit tests (high word `>`, high word `==`, low word),
 *   and two rules sharing a high-word test with different actions follow libseccomp's
 *   tie-break (the larger value for GT/GE, the smaller for LT/LE).
 * - **Where libseccomp's output is wrong, cell follows the rules instead.** Two defects
 *   of libseccomp (2.5.4 and 2.6.1) are not reproduced: its code can compare a stale
 *   accumulator when a failed subtree falls through to the next test of a level (no
 *   reload of the argument word), and after a range comparison (GT/GE/LT/LE) it shares
 *   one subtree between the two accepting branches, so a later rule merged into one
 *   branch leaks into the other (a call no rule allows can be allowed). Both only arise
 *   with several conditional rules of two or more conditions on one syscall. Apart from
 *   those, a differential run against libseccomp 2.6.1 (with the reload fixed) agreed on
 *   every one of thousands of random profiles, refusals included.
 * - **Newer syscalls.** As runc's patched filter: when the default action refuses (not
 *   allow, log or trace) and `architectures` lists the target (or `SCMP_ARCH_NATIVE`), a
 *   syscall numbered above every syscall the profile names (rules equal to the default
 *   included) gets ENOSYS instead of the default, so programs fall back from calls the
 *   profile predates. On x86_64 `nr == -1` keeps the default.
 * - **Actions.** `SCMP_ACT_KILL` is `KILL_THREAD`. `errnoRet`/`defaultErrnoRet` (default
 *   EPERM) go with `SCMP_ACT_ERRNO` and `SCMP_ACT_TRACE` only. `SCMP_ACT_NOTIFY` is
 *   `USER_NOTIF`: the filter is loaded with a listener that goes to the agent at
 *   `listenerPath` (required then). As runc, it is refused as the default action and
 *   for `write` (and for `sendmsg`, which hands the listener over).
 *
 * The work is split by job: `profile.ts` (the types), `check_profile.ts` (the checks, which
 * record every problem with its JSON path), `tree.ts` (each syscall's decision), `codegen.ts`
 * (the program's layout), `assembler.ts` (labels, jump islands, encoding) and `kernel.ts`
 * (the kernel's constants and syscall numbers). A program over the kernel's 4096
 * instructions is a ConfigInvalid error.
 *
 * @module
 */

import { ContainerError } from "../errors.ts";
import type { Problems } from "../config/problems.ts";
import { checkProfile, describe, profileError } from "./check_profile.ts";
import { generateProgram } from "./codegen.ts";
import { AUDIT_ARCH, type SeccompTarget } from "./kernel.ts";
import type { Seccomp } from "./profile.ts";
import { decideSyscalls } from "./tree.ts";

export {
  AUDIT_ARCH,
  BPF_MAXINSNS,
  SECCOMP_FILTER_FLAG,
  SECCOMP_RET,
  type SeccompTarget,
  syscallNumber,
  X32_SYSCALL_BIT,
} from "./kernel.ts";
export { BPF } from "./assembler.ts";
export { seccompFlags } from "./check_profile.ts";
export {
  type Seccomp,
  type SeccompAction,
  type SeccompArchitecture,
  type SeccompArg,
  type SeccompFlag,
  type SeccompOperator,
  type SeccompSyscall,
  unknownSyscallNames,
  usesNotify,
} from "./profile.ts";

/**
 * Compiles `profile` for `arch` as {@linkcode compileSeccomp} does, but records every
 * problem in `problems` under its JSON path (as the config validator does) and returns
 * `undefined` instead of throwing for a bad profile.
 */
export function compileProfile(
  problems: Problems,
  profile: unknown,
  arch: SeccompTarget,
): Uint8Array | undefined {
  if (!Object.hasOwn(AUDIT_ARCH, arch)) {
    throw new ContainerError(
      "ConfigInvalid",
      `seccomp: unsupported architecture ${describe(arch)}`,
    );
  }
  const checked = checkProfile(problems, profile);
  const decisions = checked && decideSyscalls(problems, checked, arch);
  return decisions && generateProgram(problems, checked, decisions, arch);
}

/**
 * Compiles `profile` (the OCI `linux.seccomp` object) for `arch` into a classic BPF
 * program of 8-byte `struct sock_filter` entries, ready for `SECCOMP_SET_MODE_FILTER`.
 * The semantics are libseccomp's (see the module doc). Throws a ContainerError with code
 * ConfigInvalid naming the JSON path of each problem of a bad profile (one a line), and
 * for a program longer than the kernel's 4096 instructions.
 */
export function compileSeccomp(profile: Seccomp, arch: SeccompTarget): Uint8Array {
  const problems: Problems = [];
  const program = compileProfile(problems, profile, arch);
  if (program === undefined) throw profileError(problems);
  return program;
}
