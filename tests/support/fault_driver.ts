/**
 * Run by faults_test.ts as a separate process with `CELL_FAULT=<step>`: does one library
 * operation on a container and is expected to SIGKILL itself at that step. If it gets to
 * the end it exits with 3, so the test knows the step was never reached.
 *
 * usage: deno run -A fault_driver.ts ROOT ID OP CONFIG_JSON_FILE MARKER
 *   OP: create | start | startNetwork | startNetDevices | createInit | startInit | exec | destroy
 *   (startNetwork: a start with the `network` option in $CELL_TEST_NETWORK, JSON;
 *   startNetDevices: with `linux.netDevices` from $CELL_TEST_NET_DEVICES, JSON)
 *   MARKER: a word in this process's argv (and so in a forked init's), and the sleep
 *   number the container runs, so the test can find every process the run left.
 *
 * @module
 */

import { createFactory } from "../../mod.ts";

const [root, id, op, configFile, marker] = Deno.args;
const factory = createFactory({ root });
const config = JSON.parse(Deno.readTextFileSync(configFile));
const quiet = { stdin: "null", stdout: "null", stderr: "null" } as const;

switch (op) {
  case "create":
    await factory.create(id, config);
    break;
  case "start":
    await (await factory.create(id, config)).start(quiet);
    break;
  case "startNetDevices": {
    config.linux.netDevices = JSON.parse(Deno.env.get("CELL_TEST_NET_DEVICES") ?? "null");
    await (await factory.create(id, config)).start(quiet);
    break;
  }
  case "startNetwork": {
    const network = JSON.parse(Deno.env.get("CELL_TEST_NETWORK") ?? "null");
    await (await factory.create(id, config, { network })).start(quiet);
    break;
  }
  case "createInit":
    await (await factory.create(id, config)).createInit(quiet);
    break;
  case "startInit":
    await (await factory.load(id)).startInit();
    break;
  case "exec":
    await (await factory.load(id)).start({ ...quiet, args: ["sleep", marker] });
    break;
  case "destroy":
    await (await factory.load(id)).destroy();
    break;
  default:
    throw new Error(`unknown op ${op}`);
}
Deno.exit(3);
