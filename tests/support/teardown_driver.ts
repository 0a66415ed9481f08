/**
 * Run by network_test.ts in another network namespace (`unshare -n`): tears down the
 * NetworkRecord given as JSON and prints the error, if any, to stderr (exit 1).
 *
 * usage: deno run -A teardown_driver.ts RECORD_JSON
 *
 * @module
 */

import { teardownNetwork } from "../../src/network/teardown.ts";

try {
  teardownNetwork(JSON.parse(Deno.args[0]));
} catch (e) {
  console.error(e instanceof Error ? e.message : String(e));
  Deno.exit(1);
}
