/**
 * `state`, `list` and `ps`: what containers there are and what runs in them.
 *
 * @module
 */

import { ContainerError, type OciState } from "../../../mod.ts";
import type { Command } from "../context.ts";
import { args, bool, parseFlags, str } from "../flags.ts";

/** `state ID`: the OCI state JSON. */
export const state: Command = async (ctx, argv) => {
  const [id] = args(parseFlags(argv, {}), { exactly: 1 }, "state");
  const s = await (await ctx.factory.load(id)).ociState();
  ctx.io.out(JSON.stringify(runcState(s), null, "  "));
  return 0;
};

/** runc's field order, `owner` included (empty: the state root's owner runs them). */
function runcState(s: OciState): Record<string, unknown> {
  const out: Record<string, unknown> = {
    ociVersion: s.ociVersion,
    id: s.id,
    pid: s.pid,
    status: s.status,
    bundle: s.bundle,
    rootfs: s.rootfs,
    created: s.created,
    owner: "",
  };
  if (Object.keys(s.annotations).length > 0) out.annotations = s.annotations;
  return out;
}

/** `list`: a table, JSON (`--format json`) or ids only (`-q`). */
export const list: Command = async (ctx, argv) => {
  const p = parseFlags(argv, {
    format: { type: "string", short: "f", help: `table or json (default: "table")` },
    quiet: { type: "boolean", short: "q", help: "print only the container ids" },
  });
  args(p, { exactly: 0 }, "list");
  const format = str(p, "format", "table");
  if (format !== "table" && format !== "json") {
    throw new ContainerError("ConfigInvalid", `invalid format option "${format}"`);
  }
  const states: OciState[] = [];
  const unreadable: string[] = [];
  for (const id of await ctx.factory.list()) {
    try {
      states.push(await (await ctx.factory.load(id)).ociState());
    } catch (e) {
      if (!(e instanceof ContainerError)) throw e;
      // Destroyed while we listed: not there any more. A damaged state is listed as such
      // (and said why on stderr, as runc does); the others are listed all the same.
      if (e.code === "ContainerNotFound" || e.code === "ContainerDestroyed") continue;
      unreadable.push(id);
      ctx.logger.log("warning", e.message);
      if (ctx.logger.toFile) ctx.io.err(e.message);
    }
  }
  if (bool(p, "quiet")) {
    for (const id of [...states.map((s) => s.id), ...unreadable].sort()) ctx.io.out(id);
  } else if (format === "json") {
    // Engines parse this: only containers with a state they can read.
    ctx.io.out(JSON.stringify(states.map(runcState)));
  } else {
    const rows = [["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"]];
    const byId = new Map(states.map((s) => [s.id, s]));
    for (const id of [...byId.keys(), ...unreadable].sort()) {
      const s = byId.get(id);
      rows.push(
        s
          ? [s.id, String(s.pid), s.status, s.bundle, s.created, owner()]
          : [id, "0", "unreadable", "", "", owner()],
      );
    }
    ctx.io.out(table(rows));
  }
  return 0;
};

/** `ps ID [ps options]`: `ps` output (default `-ef`) for the container's processes, or `--format json` pids. */
export const ps: Command = async (ctx, argv) => {
  // As runc's, ps does not reorder: flags after the id are ps(1)'s.
  const p = parseFlags(argv, {
    format: { type: "string", short: "f", help: `table or json (default: "table")` },
  }, { reorder: false });
  const [id, ...psArgs] = args(p, { atLeast: 1 }, "ps");
  const container = await ctx.factory.load(id);
  const pids = await container.processes();
  if (str(p, "format", "table") === "json") {
    ctx.io.out(JSON.stringify(pids));
    return 0;
  }
  const out = await new Deno.Command("ps", {
    args: psArgs.length > 0 ? psArgs : ["-ef"],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!out.success) throw new ContainerError("SystemError", "ps failed", { path: "ps" });
  const lines = new TextDecoder().decode(out.stdout).split("\n");
  const header = lines[0] ?? "";
  const pidColumn = header.trim().split(/\s+/).indexOf("PID");
  if (pidColumn < 0) {
    throw new ContainerError("SystemError", `ps output has no PID column: ${header}`);
  }
  const wanted = new Set(pids.map(String));
  const kept = lines.slice(1).filter((line) => wanted.has(line.trim().split(/\s+/)[pidColumn]));
  ctx.io.out([header, ...kept].join("\n"));
  return 0;
};

function owner(): string {
  return Deno.uid() === 0 ? "root" : String(Deno.uid());
}

/** Columns padded like Go's tabwriter (two spaces between). */
function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) =>
    r.map((cell, c) => c === r.length - 1 ? cell : cell.padEnd(widths[c] + 3)).join("").trimEnd()
  ).join("\n");
}
