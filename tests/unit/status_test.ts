/**
 * The status machine (src/container/status.ts), without root: which verb each phase allows,
 * and the code and words of each refusal (engines read some of them: "container not
 * running", "already running").
 */

import assert from "node:assert/strict";
import { ContainerError } from "../../mod.ts";
import {
  allows,
  check,
  type Phase,
  statusOfPhase,
  type Verb,
  VERBS,
} from "../../src/container/status.ts";

const PHASES: Phase[] = ["new", "ready", "running", "pausing", "paused", "stopped", "destroyed"];

/** The whole table, phase by phase, as a reader of the API expects it. */
const EXPECTED: Record<Verb, Phase[]> = {
  start: ["new", "ready", "running"],
  createInit: ["new"],
  startInit: ["ready"],
  pause: ["running", "pausing", "paused"],
  resume: ["pausing", "paused"],
  update: ["new", "ready", "running", "pausing", "paused"],
  signal: ["ready", "running", "pausing", "paused"],
  signalAll: ["new", "ready", "running", "pausing", "paused", "stopped"],
  processes: ["new", "ready", "running", "pausing", "paused", "stopped"],
  stats: ["new", "ready", "running", "pausing", "paused", "stopped"],
  oom: ["new", "ready", "running", "pausing", "paused", "stopped"],
  ociState: ["new", "ready", "running", "pausing", "paused", "stopped"],
};

function refusal(verb: Verb, phase: Phase): ContainerError {
  try {
    check("box", verb, phase);
  } catch (e) {
    assert.ok(e instanceof ContainerError);
    return e;
  }
  throw new Error(`${verb} in ${phase} was not refused`);
}

Deno.test("status machine: each verb is allowed in exactly the phases of the table", () => {
  assert.deepEqual(Object.keys(VERBS).sort(), Object.keys(EXPECTED).sort());
  for (const verb of Object.keys(EXPECTED) as Verb[]) {
    const allowed = PHASES.filter((phase) => allows(verb, phase));
    assert.deepEqual(allowed, EXPECTED[verb], verb);
  }
});

Deno.test("status machine: both created phases show as created; the rest as themselves", () => {
  assert.equal(statusOfPhase("new"), "created");
  assert.equal(statusOfPhase("ready"), "created");
  for (const phase of PHASES.slice(2)) assert.equal(statusOfPhase(phase), phase);
});

Deno.test("status machine: refusals carry a code by phase and say what is wrong", () => {
  for (const verb of Object.keys(EXPECTED) as Verb[]) {
    for (const phase of PHASES.filter((p) => !allows(verb, p))) {
      const e = refusal(verb, phase);
      assert.ok(e.message.startsWith(`cannot ${VERBS[verb].action} container "box": `), e.message);
      const code = phase === "destroyed"
        ? "ContainerDestroyed"
        : (phase === "paused" || phase === "pausing") &&
            !(verb === "startInit" && phase === "paused")
        ? "ContainerPaused"
        : "ContainerNotRunning";
      assert.equal(e.code, code, `${verb} in ${phase}: ${e.message}`);
    }
  }
  assert.match(refusal("signal", "stopped").message, /container not running/);
  assert.match(refusal("startInit", "running").message, /it is already running/);
  assert.match(refusal("startInit", "paused").message, /it is already paused/);
  assert.match(refusal("resume", "running").message, /it is not paused/);
  assert.match(refusal("createInit", "ready").message, /its init exists already/);
  assert.match(refusal("signal", "new").message, /no init yet/);
  assert.match(refusal("start", "destroyed").message, /has been destroyed/);
});
