/**
 * The `cell` command: a runc-shaped command line over the library.
 *
 * ```sh
 * sudo deno run -A cli.ts run demo -- sh -c 'hostname; ls /'
 * ```
 *
 * @module
 */

import { main } from "./src/cli/main.ts";
import { ContainerError } from "./src/errors.ts";

if (import.meta.main) {
  try {
    Deno.exit(await main(Deno.args));
  } catch (e) {
    const message = e instanceof ContainerError ? `${e.code}: ${e.message}` : String(e);
    console.error(`cell: ${message}`);
    Deno.exit(1);
  }
}

export { main };
