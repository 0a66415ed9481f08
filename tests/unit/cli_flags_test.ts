/**
 * The CLI's flag parser, without root: urfave/cli's reordering as runc has it.
 */

import assert from "node:assert/strict";
import { args, HelpRequested, parseFlags, reorderArgs, UsageError } from "../../src/cli/flags.ts";

Deno.test("flags: urfave/cli's reordering moves flags (and their values) before the id", () => {
  assert.deepEqual(reorderArgs(["id", "--memory", "1m", "-d"]), ["--memory", "1m", "-d", "id"]);
  assert.deepEqual(reorderArgs(["id", "--memory=1m", "x"]), ["--memory=1m", "id", "x"]);
  assert.deepEqual(reorderArgs(["id", "--", "-x", "y"]), ["id", "--", "-x", "y"]);
  const spec = { memory: { type: "string" }, all: { type: "boolean", short: "a" } } as const;
  const p = parseFlags(["ctr", "--memory", "64m"], spec);
  assert.deepEqual([p.values.memory, p.positionals], ["64m", ["ctr"]]);
  // Without reordering (exec, ps) parsing stops at the id: the rest is the command's.
  const e = parseFlags(["ctr", "sh", "-c", "x"], spec, { reorder: false });
  assert.deepEqual(e.positionals, ["ctr", "sh", "-c", "x"]);
  assert.throws(() => parseFlags(["-h"], spec), HelpRequested);
  assert.throws(() => parseFlags(["--nope"], spec), /flag provided but not defined: --nope/);
  assert.throws(() => parseFlags(["--all=maybe"], spec), /invalid boolean value/);
  assert.throws(() => args(p, { exactly: 2 }, "x"), UsageError);
  assert.throws(
    () => args(parseFlags(["a", "b", "c"], spec), { atLeast: 1, atMost: 2 }, "kill"),
    /"kill" requires a maximum of 2 argument\(s\)/,
  );
});
