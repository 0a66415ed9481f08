/**
 * The per-syscall decision tree: the conditional rules of one syscall merged the way
 * libseccomp merges its rule database (see the compiler's module doc for the order and the
 * merges), each 64-bit comparison a small tree of 32-bit tests the code generator emits as
 * they are.
 *
 * @module
 */

import { addProblem, type Problems } from "../config/problems.ts";
import { BPF_MAXINSNS, type SeccompTarget, syscallNumber } from "./kernel.ts";
import { type Cond, type Op, type Profile, PROFILE_PATH } from "./profile.ts";

/** A 32-bit test in the tree: `(word & mask) <test> datum`. */
export type Test = "EQ" | "GT" | "GE";

/** What a test's outcome leads to: nothing (try the next sibling), an action, or a level. */
export type Outcome = null | { action: number } | TreeNode[];

/** One 32-bit test of a syscall's tree, with where each of its outcomes leads. */
export interface TreeNode {
  /** The argument index, 0 to 5. */
  arg: number;
  /** Whether the test is on the argument's high word. */
  hi: boolean;
  /** The jump's comparison. */
  test: Test;
  /** Set for the two words of a MASKED_EQ: such tests never merge with plain EQ tests. */
  masked: boolean;
  /** The operator of the profile's condition, which orders nodes on a level. */
  op: Op;
  /** The 32-bit mask ANDed to the word before the test (all ones: none). */
  mask: number;
  /** The 32-bit datum, already masked. */
  datum: number;
  /** The full 64-bit datum of the condition that made the node. */
  full: bigint;
  /** Where the test holding leads. */
  t: Outcome;
  /** Where the test failing leads. */
  f: Outcome;
}

/** libseccomp refuses to merge the rule: the profile is invalid under runc too. */
class MergeConflict extends Error {}

/** Whether an outcome is an action. */
export const isAction = (o: Outcome): o is { action: number } => o !== null && !Array.isArray(o);

/** Whether an outcome is a further level of tests. */
export const isLevel = (o: Outcome): o is TreeNode[] => Array.isArray(o);

function opPriority(op: Op): number {
  switch (op) {
    case "EQ":
    case "NE":
    case "MASKED_EQ":
      return 3;
    case "LT":
    case "LE":
      return 2;
    case "GT":
    case "GE":
      return 1;
  }
}

const argPriority = (n: TreeNode): number => n.arg * 2 + (n.hi ? 1 : 0);

/** True when `a` sorts after `b` on a level (levels are kept in descending order). */
function sortsBelow(a: TreeNode, b: TreeNode): boolean {
  const pa = argPriority(a), pb = argPriority(b);
  if (pa !== pb) return pa < pb;
  const oa = opPriority(a.op), ob = opPriority(b.op);
  if (oa !== ob) return oa < ob;
  return a.op === "LT" || a.op === "LE" ? a.datum > b.datum : a.datum < b.datum;
}

function sameTest(a: TreeNode, b: TreeNode): boolean {
  return argPriority(a) === argPriority(b) && a.test === b.test && a.masked === b.masked &&
    a.datum === b.datum && a.mask === b.mask;
}

const isLeaf = (n: TreeNode): boolean => !isLevel(n.t) && !isLevel(n.f);

function allActionsAre(level: TreeNode[], action: number): boolean {
  return level.every((n) =>
    [n.t, n.f].every((o) =>
      o === null || (isAction(o) ? o.action === action : allActionsAre(o, action))
    )
  );
}

/** The chain of tests for `conds[i..]` ending in `action`; fresh objects on every call. */
function buildChain(conds: Cond[], i: number, action: number): TreeNode {
  const c = conds[i];
  const accept = (): Outcome =>
    i + 1 < conds.length ? [buildChain(conds, i + 1, action)] : { action };
  const masked = c.op === "MASKED_EQ";
  const word = (hi: boolean, test: Test): TreeNode => {
    const mask = Number(hi ? c.mask >> 32n : c.mask & 0xffffffffn);
    const datum = Number(hi ? c.datum >> 32n : c.datum & 0xffffffffn);
    return {
      arg: c.arg,
      hi,
      test,
      masked,
      op: c.op,
      mask,
      datum: (datum & mask) >>> 0,
      full: c.datum,
      t: null,
      f: null,
    };
  };
  switch (c.op) {
    case "EQ":
    case "MASKED_EQ": {
      const hi = word(true, "EQ"), lo = word(false, "EQ");
      hi.t = [lo];
      lo.t = accept();
      return hi;
    }
    case "NE": {
      const hi = word(true, "EQ"), lo = word(false, "EQ");
      hi.t = [lo];
      hi.f = accept();
      lo.f = accept();
      return hi;
    }
    case "GT":
    case "GE": {
      // hi > H, or hi == H and lo > L (lo >= L for GE)
      const above = word(true, "GT"), same = word(true, "EQ");
      const lo = word(false, c.op === "GT" ? "GT" : "GE");
      above.t = accept();
      above.f = [same];
      same.t = [lo];
      lo.t = accept();
      return above;
    }
    case "LT":
    case "LE": {
      // not (hi > H), and hi != H or not (lo >= L) (not (lo > L) for LE)
      const above = word(true, "GT"), same = word(true, "EQ");
      const lo = word(false, c.op === "LT" ? "GE" : "GT");
      above.f = [same];
      same.t = [lo];
      same.f = accept();
      lo.f = accept();
      return above;
    }
  }
}

/**
 * Puts `n` on `level`: merged into an identical test, else at its place in the order.
 * Returns how many nodes the tree gained (negative when a subtree was replaced).
 */
function addToLevel(level: TreeNode[], n: TreeNode): number {
  for (let i = 0; i < level.length; i++) {
    const x = level[i];
    if (sameTest(x, n)) return mergeNode(x, n);
    if (sortsBelow(x, n)) {
      level.splice(i, 0, n);
      return countNodes([n]);
    }
  }
  level.push(n);
  return countNodes([n]);
}

/** Merges the new chain node `n` into the identical existing node `x`, libseccomp's way. */
function mergeNode(x: TreeNode, n: TreeNode): number {
  let added = 0;
  for (const side of ["t", "f"] as const) {
    const no = n[side], xo = x[side];
    if (!isAction(no)) continue;
    if (!isAction(xo)) {
      // A shorter rule: it replaces a subtree that decides the same, else conflicts.
      if (isLevel(xo)) {
        if (!allActionsAre(xo, no.action)) throw new MergeConflict();
        added -= countNodes(xo);
      }
      x[side] = { action: no.action };
    } else if (xo.action !== no.action) {
      // Two rules whose high-word tests coincide: for GT/GE (true side) the larger
      // 64-bit value decides the "high word is above" case, for LT/LE the smaller.
      if (n.hi && (side === "t" ? n.full > x.full : n.full < x.full)) {
        x[side] = { action: no.action };
      }
      if (isLeaf(x) || isLeaf(n)) throw new MergeConflict();
    }
  }
  for (const side of ["t", "f"] as const) {
    const no = n[side], xo = x[side];
    if (!isLevel(no)) continue;
    if (isLevel(xo)) {
      for (const child of no) added += addToLevel(xo, child);
    } else if (xo === null) {
      x[side] = no;
      added += countNodes(no);
    } else {
      break; // an existing shorter rule decides this branch already (and libseccomp stops)
    }
  }
  return added;
}

function countNodes(level: TreeNode[]): number {
  let total = 0;
  for (const n of level) {
    total += 1;
    if (isLevel(n.t)) total += countNodes(n.t);
    if (isLevel(n.f)) total += countNodes(n.f);
  }
  return total;
}

/** A syscall's decision: one action, or a tree of argument tests (default when none holds). */
export interface SyscallDecision {
  /** The action of the first unconditional rule, which decides alone; null if none. */
  uncond: number | null;
  /** The top level of the argument tests (tried in order) when there is no such rule. */
  tree: TreeNode[];
  /** Tree size, to stop building absurdly large filters early. */
  nodes: number;
}

function addRule(d: SyscallDecision, conds: Cond[], action: number): void {
  if (d.uncond !== null) return; // the first unconditional rule decides
  // A MASKED_EQ with a zero mask always holds: libseccomp drops it.
  const live = conds.filter((c) => !(c.op === "MASKED_EQ" && c.mask === 0n))
    .sort((a, b) => a.arg - b.arg);
  if (live.length === 0) {
    d.uncond = action;
    d.tree = [];
    d.nodes = 0;
    return;
  }
  d.nodes += addToLevel(d.tree, buildChain(live, 0, action));
}

/**
 * Each syscall of the profile that has a number on `arch`, with its decision. Records a
 * problem and returns `undefined` for rules libseccomp cannot merge and for trees already
 * too large for the kernel's limit.
 */
export function decideSyscalls(
  problems: Problems,
  profile: Profile,
  arch: SeccompTarget,
): Map<number, SyscallDecision> | undefined {
  const decisions = new Map<number, SyscallDecision>();
  let total = 0;
  for (const rule of profile.rules) {
    for (const name of rule.names) {
      const nr = syscallNumber(arch, name);
      if (nr === undefined) continue;
      let d = decisions.get(nr);
      if (!d) decisions.set(nr, d = { uncond: null, tree: [], nodes: 0 });
      const before = d.nodes;
      for (const conds of rule.alternatives) {
        try {
          addRule(d, conds, rule.action);
        } catch (e) {
          if (!(e instanceof MergeConflict)) throw e;
          addProblem(
            problems,
            rule.path,
            `a rule for "${name}" overlaps an earlier rule for it with a different action ` +
              "in a way libseccomp cannot merge (runc refuses this profile too)",
          );
          return undefined;
        }
      }
      total += d.nodes - before;
      // Every tree node costs at least one instruction: stop before the work grows.
      if (total > BPF_MAXINSNS) {
        addProblem(
          problems,
          PROFILE_PATH,
          `the filter needs at least ${total} instructions, the kernel allows ${BPF_MAXINSNS}`,
        );
        return undefined;
      }
    }
  }
  return decisions;
}
