/**
 * Finding and loading libcell. Lookup order: an explicit path, the `CELL_LIB`
 * environment variable, then for a package on disk the local build
 * (zig-out/lib/libcell.so beside this package) and the copy shipped with the package
 * (lib/), and for a package imported from a URL (JSR) the shipped copy downloaded into a
 * per-user cache and checked against its sha256 (./remote_library.ts). One error names
 * every path and URL tried and how to build.
 *
 * @module
 */

import { ABI_VERSION } from "./abi.ts";
import { type RemoteLibrary, remoteLibrary } from "./remote_library.ts";
import { type CellSymbols, SYMBOLS } from "./symbols.ts";

/** Options for {@linkcode loadLibrary}. */
export interface LoadLibraryOptions {
  /** A path to libcell.so to use instead of the lookup. */
  path?: string;
}

let loaded: { path: string; symbols: CellSymbols } | undefined;

const REMOTE = ["http:", "https:"].includes(new URL(import.meta.url).protocol);

function envLibrary(): string | undefined {
  try {
    return Deno.env.get("CELL_LIB") || undefined;
  } catch {
    return undefined; // no --allow-env: the lookup goes on without it
  }
}

// Loading is synchronous and dlopen needs a file, so a package imported from a URL fetches its
// library while it is imported (once per user: later imports find it in the cache).
const remote: RemoteLibrary | undefined = REMOTE && !envLibrary()
  ? await remoteLibrary()
  : undefined;

/** A place to try: a path to dlopen, or a URL that gave no file and why. */
type Candidate = { path: string } | { failed: string };

function candidates(options: LoadLibraryOptions): Candidate[] {
  const list: Candidate[] = [];
  if (options.path) list.push({ path: options.path });
  const env = envLibrary();
  if (env) list.push({ path: env });
  if (remote?.path) list.push({ path: remote.path });
  else if (remote) list.push({ failed: `${remote.url} (${remote.error})` });
  if (REMOTE) return list;
  for (const rel of ["../zig-out/lib/libcell.so", `../lib/libcell-${Deno.build.arch}.so`]) {
    list.push({ path: decodeURIComponent(new URL(rel, import.meta.url).pathname) });
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
  for (const candidate of candidates(options)) {
    if ("failed" in candidate) {
      tried.push(candidate.failed);
      continue;
    }
    const path = candidate.path;
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
      (REMOTE
        ? "Let the import download its library (--allow-net, --allow-env, --allow-read and " +
          "--allow-write for the cache), or build one with `deno task build` in a checkout of " +
          "cell (needs zig: sudo tools/setup.sh) and set CELL_LIB to its zig-out/lib/libcell.so."
        : "Build it with `deno task build` (needs zig: sudo tools/setup.sh), " +
          "or set CELL_LIB to its path."),
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
