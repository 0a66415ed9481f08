/** PSI and misc files parsed exactly (src/cgroups/pressure.ts). */

import assert from "node:assert/strict";
import { parseMisc, parsePressure } from "../../src/cgroups/pressure.ts";

Deno.test("pressure: some and full lines, averages and totals", () => {
  const text = "some avg10=1.50 avg60=0.25 avg300=0.00 total=123456\n" +
    "full avg10=0.00 avg60=0.10 avg300=0.02 total=789\n";
  assert.deepEqual(parsePressure(text), {
    some: { avg10: 1.5, avg60: 0.25, avg300: 0, totalUs: 123456 },
    full: { avg10: 0, avg60: 0.1, avg300: 0.02, totalUs: 789 },
  });
  // A kernel without the cpu "full" line (before 5.13), a missing file, a malformed one.
  assert.deepEqual(parsePressure("some avg10=0.00 avg60=0.00 avg300=0.00 total=5\n"), {
    some: { avg10: 0, avg60: 0, avg300: 0, totalUs: 5 },
  });
  assert.equal(parsePressure(undefined), undefined);
  assert.equal(parsePressure("garbage\n"), undefined);
});

Deno.test("misc: current and max events by resource; unknown lines ignored", () => {
  assert.deepEqual(parseMisc("sev 3\nsev_es 0\n", "sev.max 2\nsev_es.max 0\nother.max 9\n"), {
    sev: { current: 3, events: 2 },
    sev_es: { current: 0, events: 0 },
  });
  assert.deepEqual(parseMisc(undefined, undefined), {});
  assert.deepEqual(parseMisc("", ""), {});
});
