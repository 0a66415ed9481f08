/**
 * The `cell` command: an OCI runtime with runc's command line, over the library.
 *
 * ```sh
 * sudo deno run -A cli.ts run --bundle /path/to/bundle mybox
 * ```
 *
 * @module
 */

import { main } from "./src/cli/main.ts";

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}

export { main };
export type { CliIo } from "./src/cli/io.ts";
