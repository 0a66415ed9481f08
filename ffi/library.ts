/**
 * Finding and loading libcell. Lookup order: an explicit path, the `CELL_LIB`
 * environment variable, the local build (zig-out/lib/libcell.so beside this
 * package), then the copy shipped with the package (lib/). One error names every
 * path tried and how to build.
 *
 * @module
 */

import { ABI_VERSION } from "./abi.ts";
import { type CellSymbols, SYMBOLS } from "./symbols.ts";

/** Options for {@linkcode loadLibrary}. */
export interface LoadLibraryOptions {
  /** A path to libcell.so to use instead of the lookup. */
  path?: string;
}

let loaded: { path: string; symbols: CellSymbols } | undefined;

function candidates(options: LoadLibraryOptions): string[] {
  const list: string[] = [];
  if (options.path) list.push(options.path);
  const env = Deno.env.get("CELL_LIB");
  if (env) list.push(env);
  for (const rel of ["../zig-out/lib/libcell.so", `../lib/libcell-${Deno.build.arch}.so`]) {
    const url = new URL(rel, import.meta.url);
    list.push(url.protocol === "file:" ? decodeURIComponent(url.pathname) : url.href);
  }
  return list;
}

/** The path of the loaded library, once loaded. */
export function libraryPath(): string | undefined {
  return loaded?.path;
}

/**
 * Loads libcell once per process and returns its symbols.
 * @throws Error naming the paths tried when none loads or the ABI version differs.
 */
export function loadLibrary(options: LoadLibraryOptions = {}): CellSymbols {
  if (loaded) return loaded.symbols;
  const tried: string[] = [];
  for (const path of candidates(options)) {
    let probe: Deno.DynamicLibrary<{ cell_abi_version: typeof SYMBOLS.cell_abi_version }>;
    try {
      Deno.statSync(path);
      probe = Deno.dlopen(path, { cell_abi_version: SYMBOLS.cell_abi_version });
    } catch (e) {
      tried.push(`${path} (${e instanceof Error ? e.message : String(e)})`);
      continue;
    }
    const version = probe.symbols.cell_abi_version();
    if (version !== ABI_VERSION) {
      probe.close();
      tried.push(`${path} (ABI version ${version}, this module needs ${ABI_VERSION}: rebuild)`);
      continue;
    }
    loaded = { path, symbols: lazySymbols(path) };
    return loaded.symbols;
  }
  throw new Error(
    `cannot load libcell; tried:\n  ${tried.join("\n  ")}\n` +
      "Build it with `deno task build` (needs zig: sudo tools/setup.sh), " +
      "or set CELL_LIB to its path.",
  );
}

/**
 * The symbol table, each function bound on first use: binding all of them costs a CLI
 * start a few milliseconds, and one command uses a handful.
 */
function lazySymbols(path: string): CellSymbols {
  const table = {} as Record<string, unknown>;
  for (const name of Object.keys(SYMBOLS) as (keyof typeof SYMBOLS)[]) {
    Object.defineProperty(table, name, {
      configurable: true,
      enumerable: true,
      get() {
        const lib = Deno.dlopen(
          path,
          { [name]: SYMBOLS[name] } as Pick<typeof SYMBOLS, typeof name>,
        );
        const fn = lib.symbols[name];
        Object.defineProperty(table, name, { value: fn, enumerable: true });
        return fn;
      },
    });
  }
  return table as CellSymbols;
}
