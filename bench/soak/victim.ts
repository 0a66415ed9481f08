/**
 * A library process for the soak's SIGKILL runs, started fresh for each kill. With
 * `{"do":"step"}` it takes a container through the steps before `step`, prints `go`, runs
 * `step` (printing `done <ms>` after it) and then waits to be killed. With `{"do":"destroy"}`
 * it is the fresh process that cleans up: it loads the container and destroys it, and
 * prints what happened. Everything it says is one line on stdout.
 *
 * usage: deno run -A bench/soak/victim.ts '<json VictimOrder>'
 *
 * @module
 */

import { type Container, createFactory, type Spec } from "../../mod.ts";

/** The library steps a kill can land in, in the order a container goes through them. */
export const LIBRARY_STEPS = [
  "create",
  "start",
  "createInit",
  "startInit",
  "exec",
  "destroy",
] as const;

/** One library step. */
export type LibraryStep = typeof LIBRARY_STEPS[number];

/** What the victim is asked to do. */
export type VictimOrder =
  | { do: "step"; root: string; id: string; config: string; step: LibraryStep }
  | { do: "destroy"; root: string; id: string };

/** The steps run before `step` (unkilled), and then `step` itself. */
function plan(step: LibraryStep): LibraryStep[] {
  switch (step) {
    case "create":
      return ["create"];
    case "start":
    case "createInit":
      return ["create", step];
    case "startInit":
      return ["create", "createInit", "startInit"];
    case "exec":
    case "destroy":
      return ["create", "start", step];
  }
}

const QUIET = { stdin: "null", stdout: "null", stderr: "null" } as const;

async function run(order: Extract<VictimOrder, { do: "step" }>): Promise<void> {
  const factory = createFactory({ root: order.root });
  const config: Spec = JSON.parse(Deno.readTextFileSync(order.config));
  let container: Container | undefined;
  for (const step of plan(order.step)) {
    const target = step === order.step;
    if (target) say("go");
    const t0 = performance.now();
    switch (step) {
      case "create":
        container = await factory.create(order.id, config);
        break;
      case "start":
        await container!.start(QUIET);
        break;
      case "createInit":
        await container!.createInit(QUIET);
        break;
      case "startInit":
        await container!.startInit();
        break;
      case "exec": {
        const proc = await container!.start({ ...QUIET, args: ["true"] });
        await proc.status;
        break;
      }
      case "destroy":
        await container!.destroy();
        break;
    }
    if (target) say(`done ${(performance.now() - t0).toFixed(3)}`);
  }
  // Wait to be killed; the harness kills every victim, late or not.
  await new Promise((r) => setTimeout(r, 60_000));
}

async function destroy(order: Extract<VictimOrder, { do: "destroy" }>): Promise<void> {
  // Factory.destroy(id), not load + destroy: a kill can leave a state that cannot be loaded
  // (a directory without state.json, a start cut short) and it must go all the same.
  await createFactory({ root: order.root }).destroy(order.id);
  say("destroyed");
}

function say(line: string): void {
  Deno.stdout.writeSync(new TextEncoder().encode(`${line}\n`));
}

if (import.meta.main) {
  try {
    const order: VictimOrder = JSON.parse(Deno.args[0]);
    await (order.do === "step" ? run(order) : destroy(order));
  } catch (e) {
    const text = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    say(`error ${text.replaceAll("\n", " | ")}`);
    Deno.exit(1);
  }
}
