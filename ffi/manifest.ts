/**
 * The shape of `lib/manifest.json`, which `deno task package` (tools/package.ts) writes beside
 * the prebuilt libraries: the package version and each library's size and sha256. It is a JSON
 * module of the package, so the registry's integrity check covers it like the code.
 *
 * @module
 */

/** The manifest's file name in `lib/`. */
export const MANIFEST_FILE = "manifest.json";

/** The architectures a library is built for, with its file name and the CPU it targets. */
export const TARGETS = {
  x86_64: { file: "libcell-x86_64.so", cpu: "x86-64 baseline" },
  aarch64: { file: "libcell-aarch64.so", cpu: "armv8-a baseline" },
} as const;

/** One shipped library. */
export interface LibraryEntry {
  /** The file name in `lib/`. */
  file: string;
  /** The CPU the code is built for. */
  cpu: string;
  /** Its size in bytes. */
  size: number;
  /** Its sha256, lowercase hex. */
  sha256: string;
}

/** The whole manifest. */
export interface LibraryManifest {
  /** The package name (deno.json `name`). */
  package: string;
  /** The package version (deno.json `version`). */
  version: string;
  /** The ABI version of the TypeScript that was packaged with these libraries. */
  abiVersion: number;
  /** The Zig version that built them. */
  zig: string;
  /** The libraries by `Deno.build.arch`. */
  libraries: Record<string, LibraryEntry>;
}

function isEntry(value: unknown): value is LibraryEntry {
  if (typeof value !== "object" || value === null) return false;
  const entry = value as Record<string, unknown>;
  return typeof entry.file === "string" && /^[\w.-]+$/.test(entry.file) &&
    typeof entry.size === "number" && typeof entry.sha256 === "string" &&
    /^[0-9a-f]{64}$/.test(entry.sha256);
}

/**
 * Checks that a parsed `manifest.json` has the expected shape.
 * @throws Error naming `source` when it does not.
 */
export function parseManifest(value: unknown, source: string): LibraryManifest {
  const manifest = value as Partial<LibraryManifest> | null;
  const ok = typeof manifest === "object" && manifest !== null &&
    typeof manifest.version === "string" && /^[\w.+-]+$/.test(manifest.version) &&
    typeof manifest.libraries === "object" && manifest.libraries !== null &&
    Object.values(manifest.libraries).every(isEntry);
  if (!ok) throw new Error(`${source} is not a library manifest written by tools/package.ts`);
  return manifest as LibraryManifest;
}
