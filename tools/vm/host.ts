/**
 * Host-side helpers of the VM tooling: where its cache lives, and running a host command
 * with an error that says what to install when the command is missing.
 *
 * @module
 */

import { fileURLToPath } from "node:url";

/** The repository root (the directory holding deno.json). */
export const REPO_ROOT: string = fileURLToPath(new URL("../..", import.meta.url));

/** Where guest assets are cached; outside the repo. Override with CELL_VM_CACHE. */
export const CACHE_DIR: string = Deno.env.get("CELL_VM_CACHE") ?? "/var/cache/cell-vm";

/** What to run when a host tool the VM needs is missing. */
export const INSTALL_HINT = "install the VM tools with: sudo tools/setup.sh --with-vm";

/**
 * Runs `cmd` with `args` and returns its standard output as text.
 *
 * @throws {Error} If the command is missing (naming {@linkcode INSTALL_HINT}) or fails
 * (with its standard error).
 */
export async function output(
  cmd: string,
  args: string[],
  options: { cwd?: string } = {},
): Promise<string> {
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command(cmd, {
      args,
      cwd: options.cwd,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new Error(`${cmd} is not installed: ${INSTALL_HINT}`, { cause: e });
    }
    throw e;
  }
  const text = new TextDecoder();
  if (!out.success) {
    const err = text.decode(out.stderr).trim();
    throw new Error(`${cmd} ${args.join(" ")} failed (exit ${out.code}): ${err}`);
  }
  return text.decode(out.stdout);
}

/**
 * The absolute path of `name` on PATH.
 *
 * @throws {Error} Naming {@linkcode INSTALL_HINT} when it is not there.
 */
export function which(name: string): string {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    if (dir === "") continue;
    const path = `${dir}/${name}`;
    try {
      if (Deno.statSync(path).isFile) return path;
    } catch { /* not in this directory */ }
  }
  throw new Error(`${name} is not on PATH: ${INSTALL_HINT}`);
}

/** Whether `path` exists (following symlinks). */
export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

/** Writes `data` to `path` through a temporary file and a rename, so readers never see half. */
export async function writeAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${path}.${Deno.pid}.tmp`;
  if (typeof data === "string") await Deno.writeTextFile(tmp, data);
  else await Deno.writeFile(tmp, data);
  await Deno.rename(tmp, path);
}
