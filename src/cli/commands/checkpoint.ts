/**
 * `checkpoint` and `restore`, through CRIU (the `criu` binary, or `--criu PATH`). The flags
 * and the checks before CRIU runs are runc's; `checkpoint` then runs `criu dump` (or
 * `pre-dump`) on the container's init and its tree, and deletes the container unless it is
 * left running. `restore` checks its input and that CRIU works on this host, but cell cannot
 * adopt a restored process tree as a container yet, so it stops there with an error.
 *
 * @module
 */

import { type Container, ContainerError } from "../../../mod.ts";
import { isAbsolute, join, readBundle, resolve } from "../../../oci.ts";
import type { CliContext, Command } from "../context.ts";
import { args, bool, list, type Parsed, parseFlags, str } from "../flags.ts";

const SHARED_FLAGS = {
  "image-path": { type: "string", help: "where the CRIU images are (default: ./checkpoint)" },
  "work-path": { type: "string", help: "where CRIU's logs go (default: the image path)" },
  "tcp-established": { type: "boolean", help: "allow open TCP connections" },
  "ext-unix-sk": { type: "boolean", help: "allow external unix sockets" },
  "shell-job": { type: "boolean", help: "allow shell jobs" },
  "file-locks": { type: "boolean", help: "handle file locks" },
  "manage-cgroups-mode": { type: "string", help: "soft (default), full or strict" },
  "empty-ns": {
    type: "string",
    multiple: true,
    help: "make this namespace but do not restore its properties (network)",
  },
  "auto-dedup": { type: "boolean", help: "deduplicate memory images" },
  "lazy-pages": { type: "boolean", help: "restore memory lazily (userfaultfd)" },
} as const;

const CHECKPOINT_FLAGS = {
  ...SHARED_FLAGS,
  "parent-path": { type: "string", help: "earlier (pre-dump) images, relative to the image path" },
  "leave-running": { type: "boolean", help: "leave the container running" },
  "status-fd": { type: "string", help: "CRIU writes \\0 here once lazy pages are ready" },
  "page-server": { type: "string", help: "ADDRESS:PORT of a CRIU page server" },
  "pre-dump": { type: "boolean", help: "dump the memory only and leave the container running" },
} as const;

const RESTORE_FLAGS = {
  ...SHARED_FLAGS,
  "console-socket": {
    type: "string",
    help: "an AF_UNIX socket to send the master of the terminal to",
  },
  bundle: { type: "string", short: "b", help: "the bundle directory" },
  detach: { type: "boolean", short: "d", help: "return once restored" },
  "pid-file": { type: "string", help: "write the init's pid to this file" },
  "no-subreaper": { type: "boolean", help: "accepted for runc's sake" },
  "no-pivot": { type: "boolean", help: "do not use pivot_root" },
  "lsm-profile": { type: "string", help: "the LSM profile of the restored process" },
  "lsm-mount-context": { type: "string", help: "the LSM mount context" },
} as const;

/** `checkpoint [flags] ID`. */
export const checkpoint: Command = async (ctx, argv) => {
  ctx.io.inProcessOnly("criu runs as the caller's child");
  const p = parseFlags(argv, CHECKPOINT_FLAGS);
  const [id] = args(p, { exactly: 1 }, "checkpoint");
  const container = await ctx.factory.load(id);
  const status = await container.status();
  if (status === "created" || status === "stopped") {
    throw new ContainerError(
      "ContainerNotRunning",
      `Container cannot be checkpointed in ${status} state`,
    );
  }
  const { image, work, parent } = imagePaths(p);
  const mode = cgroupsMode(p);
  const pageServer = pageServerArgs(p);
  emptyNamespaces(p);
  const preDump = bool(p, "pre-dump");
  const state = await container.ociState();
  const log = preDump ? "pre-dump.log" : "dump.log";
  const criuArgs = [
    preDump ? "pre-dump" : "dump",
    "--tree",
    String(pidOf(state)),
    "--images-dir",
    image,
    "--work-dir",
    work,
    "--log-file",
    log,
    "-v4",
    "--root",
    state.rootfs,
    // An optional argument: criu takes it only attached (`--manage-cgroups soft` leaves
    // "soft" as a stray positional, which criu 3.17 refuses).
    `--manage-cgroups=${mode}`,
    ...externalMounts(container),
    ...(parent ? ["--prev-images-dir", parent, "--track-mem"] : []),
    ...(preDump ? ["--track-mem"] : []),
    ...flagArgs(p, {
      "leave-running": "--leave-running",
      "tcp-established": "--tcp-established",
      "ext-unix-sk": "--ext-unix-sk",
      "shell-job": "--shell-job",
      "file-locks": "--file-locks",
      "auto-dedup": "--auto-dedup",
      "lazy-pages": "--lazy-pages",
    }),
    ...pageServer,
  ];
  await runCriu(ctx, criuArgs, preDump ? "PRE_DUMP" : "DUMP", join(work, log));
  if (!bool(p, "leave-running") && !preDump) await container.destroy();
  return 0;
};

/** `restore [flags] ID`: runc's checks, then CRIU's own; adopting the tree is not done. */
export const restore: Command = async (ctx, argv) => {
  ctx.io.inProcessOnly("criu runs as the caller's child");
  const p = parseFlags(argv, RESTORE_FLAGS);
  const [id] = args(p, { exactly: 1 }, "restore");
  const taken = await ctx.factory.load(id).then(() => true, () => false);
  if (taken) throw new ContainerError("IdInUse", `container with id exists: ${id}`);
  readBundle(str(p, "bundle", ".")!);
  const { image, work } = imagePaths(p);
  cgroupsMode(p);
  emptyNamespaces(p);
  try {
    Deno.statSync(join(image, "inventory.img"));
  } catch {
    throw new ContainerError("ConfigInvalid", `no checkpoint images in ${image}`, { path: image });
  }
  await runCriu(ctx, ["check"], "RESTORE", join(work, "restore.log"));
  throw new ContainerError(
    "SystemError",
    "restore: cell cannot take a restored process tree back as a container yet",
  );
};

/** The image, work and parent paths, made and checked as runc does. */
function imagePaths(p: Parsed): { image: string; work: string; parent?: string } {
  const image = resolve(str(p, "image-path") || "checkpoint");
  Deno.mkdirSync(image, { recursive: true, mode: 0o600 });
  const work = resolve(str(p, "work-path") || image);
  Deno.mkdirSync(work, { recursive: true });
  const parent = str(p, "parent-path");
  if (!parent) return { image, work };
  if (isAbsolute(parent)) {
    throw new ContainerError("ConfigInvalid", "--parent-path must be relative");
  }
  const real = join(image, parent);
  let isDir = false;
  try {
    isDir = Deno.statSync(real).isDirectory;
  } catch {
    throw new ContainerError(
      "ConfigInvalid",
      `invalid --parent-path: stat ${real}: no such file or directory`,
    );
  }
  if (!isDir) {
    throw new ContainerError("ConfigInvalid", `invalid --parent-path: ${real}: not a directory`);
  }
  return { image, work, parent };
}

function cgroupsMode(p: Parsed): string {
  const mode = str(p, "manage-cgroups-mode") || "soft";
  if (!["soft", "full", "strict"].includes(mode)) {
    throw new ContainerError("ConfigInvalid", "Invalid manage cgroups mode");
  }
  return mode;
}

function emptyNamespaces(p: Parsed): void {
  for (const ns of list(p, "empty-ns")) {
    if (ns !== "network") {
      throw new ContainerError("ConfigInvalid", `namespace "${ns}" is not supported`);
    }
  }
}

function pageServerArgs(p: Parsed): string[] {
  const server = str(p, "page-server");
  if (!server) return [];
  const at = server.lastIndexOf(":");
  const [address, port] = [server.slice(0, at), server.slice(at + 1)];
  if (at < 0 || address === "" || port === "") {
    throw new ContainerError(
      "ConfigInvalid",
      "Use --page-server ADDRESS:PORT to specify page server",
    );
  }
  if (!/^\d+$/.test(port)) throw new ContainerError("ConfigInvalid", "Invalid port number");
  return ["--page-server", "--address", address, "--port", port];
}

function flagArgs(p: Parsed, map: Record<string, string>): string[] {
  return Object.entries(map).filter(([flag]) => bool(p, flag)).map(([, arg]) => arg);
}

function pidOf(state: { pid: number }): number {
  if (!state.pid) throw new ContainerError("ContainerNotRunning", "container not running");
  return state.pid;
}

/** Bind mounts are outside CRIU's view: it records them as external by destination. */
function externalMounts(container: Container): string[] {
  return (container.config.mounts ?? [])
    .filter((m) => m.options?.some((o) => o === "bind" || o === "rbind") || m.type === "bind")
    .flatMap((m) => ["--external", `mnt[${m.destination}]:${m.destination}`]);
}

/** Runs criu; a failure says so as runc's words do, with the log file to read. */
async function runCriu(ctx: CliContext, criuArgs: string[], type: string, log: string) {
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command(ctx.criu, { args: criuArgs, stdout: "piped", stderr: "piped" })
      .output();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new ContainerError(
        "SystemError",
        `exec: "${ctx.criu}": executable file not found in $PATH`,
      );
    }
    throw e;
  }
  if (out.success) return;
  const detail = new TextDecoder().decode(out.stderr).trim().split("\n").slice(-3).join("\n");
  throw new ContainerError(
    "SystemError",
    `criu failed: type ${type} errno ${out.code}\nlog file: ${log}${detail ? `\n${detail}` : ""}`,
  );
}
