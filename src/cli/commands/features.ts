/**
 * `features`: what this runtime supports, in the OCI features document's shape, so
 * engines can ask before they use something.
 *
 * @module
 */

import { featuresDocument } from "../../../oci.ts";
import type { Command } from "../context.ts";
import { args, parseFlags } from "../flags.ts";

/** `features`: prints the document. */
// deno-lint-ignore require-await
export const features: Command = async (ctx, argv) => {
  args(parseFlags(argv, {}), { exactly: 0 }, "features");
  ctx.io.out(JSON.stringify(featuresDocument(), null, "  "));
  return 0;
};
