/**
 * `spec`: writes a starting config.json into the bundle (`--rootless` for a non-root user).
 *
 * @module
 */

import { join } from "../../path.ts";
import { defaultConfig } from "../../config/defaults.ts";
import { ContainerError } from "../../errors.ts";
import type { Command } from "../context.ts";
import { bool, parseFlags, str } from "../flags.ts";

/** `spec [--bundle DIR] [--rootless]`. */
// deno-lint-ignore require-await
export const spec: Command = async (_ctx, args) => {
  const p = parseFlags(args, {
    bundle: { type: "string", short: "b" },
    rootless: { type: "boolean" },
  });
  const file = join(str(p, "bundle", ".")!, "config.json");
  try {
    Deno.statSync(file);
    throw new ContainerError("ConfigInvalid", `File ${file} exists. Remove it first`);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  const config = defaultConfig({ rootfs: "rootfs", rootless: bool(p, "rootless") });
  Deno.writeTextFileSync(file, JSON.stringify(config, null, "\t") + "\n");
  return 0;
};
