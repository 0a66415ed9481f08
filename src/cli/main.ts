/**
 * The command line, shaped like runc's. This first cut has `run`, `list`, `state`,
 * `kill`, `delete` and `spec`; the create/start split, exec and the rest follow.
 *
 * @module
 */

import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { createFactory, defaultConfig, sandboxConfig } from "../../mod.ts";
import { ContainerError } from "../errors.ts";
import { libraryPath } from "../../ffi/library.ts";
import { SIGNALS } from "../process/signals.ts";

const USAGE = `usage: cell [--root DIR] COMMAND [ARGS]

commands:
  run [--bundle DIR] ID            run the bundle's config.json in the foreground;
                                   with no config.json in DIR, run "ID -- CMD..." in
                                   the built-in sandbox (host filesystem read-only)
  list                             list containers
  state ID                         print a container's state as JSON
  kill ID [SIGNAL]                 signal a container's init (default SIGTERM)
  delete [--force] ID              destroy a container
  spec [--bundle DIR]              write a config.json for a busybox-style rootfs
`;

/** Runs the CLI with `args`; resolves to the process exit code. */
export async function main(args: string[]): Promise<number> {
  const globals = parseArgs({
    args,
    options: { root: { type: "string", default: "/run/cell" }, help: { type: "boolean" } },
    allowPositionals: true,
    strict: false,
  });
  const [command, ...rest] = globals.positionals;
  if (globals.values.help || !command) {
    console.log(USAGE);
    return command ? 0 : 1;
  }
  const factory = createFactory({ root: String(globals.values.root) });
  const commandArgs = args.slice(args.indexOf(command) + 1);
  switch (command) {
    case "run":
      return await run(factory, commandArgs);
    case "list":
      for (const id of await factory.list()) {
        console.log(`${id}\t${await (await factory.load(id)).status()}`);
      }
      return 0;
    case "state": {
      const c = await factory.load(need(rest[0], "state ID"));
      const pids = (await c.status()) === "running" ? await c.processes() : [];
      console.log(JSON.stringify({ id: c.id, status: await c.status(), pids }, null, 2));
      return 0;
    }
    case "kill": {
      const c = await factory.load(need(rest[0], "kill ID [SIGNAL]"));
      await c.signal((rest[1] ?? "SIGTERM") as Deno.Signal);
      return 0;
    }
    case "delete": {
      const { values, positionals } = parseArgs({
        args: commandArgs,
        options: { force: { type: "boolean" } },
        allowPositionals: true,
      });
      const c = await factory.load(need(positionals[0], "delete [--force] ID"));
      const status = await c.status();
      if (status === "running" && !values.force) {
        throw new ContainerError(
          "ContainerNotRunning",
          `container "${c.id}" is running: use --force`,
        );
      }
      await c.destroy();
      return 0;
    }
    case "spec": {
      const { values } = parseArgs({
        args: commandArgs,
        options: { bundle: { type: "string", short: "b", default: "." } },
      });
      const file = join(String(values.bundle), "config.json");
      Deno.writeTextFileSync(file, JSON.stringify(defaultConfig({ rootfs: "rootfs" }), null, 2));
      return 0;
    }
    default:
      console.error(`cell: unknown command "${command}"\n${USAGE}`);
      return 1;
  }
}

function need(value: string | undefined, usage: string): string {
  if (!value) throw new ContainerError("ConfigInvalid", `usage: cell ${usage}`);
  return value;
}

async function run(factory: ReturnType<typeof createFactory>, args: string[]): Promise<number> {
  const dash = args.indexOf("--");
  const own = dash < 0 ? args : args.slice(0, dash);
  const command = dash < 0 ? [] : args.slice(dash + 1);
  const { values, positionals } = parseArgs({
    args: own,
    options: { bundle: { type: "string", short: "b", default: "." } },
    allowPositionals: true,
  });
  const id = need(positionals[0], "run [--bundle DIR] ID [-- CMD...]");
  const bundle = resolve(String(values.bundle));
  let config: unknown;
  try {
    config = JSON.parse(Deno.readTextFileSync(join(bundle, "config.json")));
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
    const hide = [Deno.execPath(), libraryPath()].filter((p): p is string => !!p);
    config = sandboxConfig({ args: command.length ? command : ["sh"], hide });
  }
  await using container = await factory.create(id, config, { bundle });
  const proc = await container.start();
  const forward = (sig: Deno.Signal) => () => {
    try {
      proc.kill(sig);
    } catch { /* already gone */ }
  };
  const handlers = (["SIGINT", "SIGTERM", "SIGHUP"] as const).map((s) => {
    const h = forward(s);
    Deno.addSignalListener(s, h);
    return [s, h] as const;
  });
  try {
    const status = await proc.status;
    return status.code ?? 128 + signalNumberOf(status.signal);
  } finally {
    for (const [s, h] of handlers) Deno.removeSignalListener(s, h);
  }
}

function signalNumberOf(signal: string | null): number {
  return signal ? SIGNALS[signal] ?? 0 : 0;
}
