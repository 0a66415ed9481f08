/**
 * The library of a package imported from a URL (JSR, or any http(s) server). `Deno.dlopen`
 * needs a file, so the library for this architecture is downloaded once into a per-user cache,
 * `<cache>/<version>/<sha256>/libcell-<arch>.so`, where `<cache>` is `$CELL_CACHE`, else
 * `$XDG_CACHE_HOME/cell`, else `~/.cache/cell`. The expected size and sha256 come from
 * `lib/manifest.json`, a JSON module of the package (so the registry's integrity check covers
 * it); a downloaded or cached file is checked against them before anything loads it, and a file
 * that does not match is never kept.
 *
 * @module
 */

import { parseManifest } from "./manifest.ts";

/** How long the download of the library may take. */
const FETCH_TIMEOUT_MS = 120_000;

/** What became of the remote library. */
export interface RemoteLibrary {
  /** The URL of the library (or of the manifest, when that could not be read). */
  url: string;
  /** The checked file in the cache, when there is one. */
  path?: string;
  /** Why there is no file. */
  error?: string;
}

function env(name: string): string | undefined {
  return Deno.env.get(name) || undefined;
}

/** The home directory of this user from /etc/passwd, for when HOME is not set. */
function passwdHome(): string | undefined {
  const uid = String(Deno.uid());
  for (const line of Deno.readTextFileSync("/etc/passwd").split("\n")) {
    const fields = line.split(":");
    if (fields[2] === uid && fields[5]?.startsWith("/")) return fields[5];
  }
  return undefined;
}

/**
 * The per-user cache directory for downloaded libraries: `$CELL_CACHE`, else
 * `$XDG_CACHE_HOME/cell`, else `~/.cache/cell` (HOME, or the user's home in /etc/passwd).
 * @throws Error when none of them is known.
 */
export function libraryCacheDir(): string {
  const explicit = env("CELL_CACHE");
  if (explicit) return explicit;
  const xdg = env("XDG_CACHE_HOME");
  if (xdg?.startsWith("/")) return `${xdg}/cell`;
  const home = env("HOME") ?? passwdHome();
  if (!home) throw new Error("no cache directory for libcell: set CELL_CACHE (or HOME)");
  return `${home}/.cache/cell`;
}

/** Lowercase hex sha256 of some bytes. */
async function sha256(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The response body, refused as soon as it is longer than `limit` bytes. */
async function readBounded(response: Response, limit: number): Promise<Uint8Array<ArrayBuffer>> {
  const chunks: Uint8Array[] = [];
  let length = 0;
  for await (const chunk of response.body ?? []) {
    length += chunk.length;
    if (length > limit) {
      throw new Error(
        `the server sent more than the ${limit} bytes the package's manifest expects: ` +
          "refused, not kept",
      );
    }
    chunks.push(chunk);
  }
  const bytes = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return bytes;
}

async function download(url: URL, size: number): Promise<Uint8Array<ArrayBuffer>> {
  const response = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
  if (!response.ok) {
    await response.body?.cancel();
    throw new Error(`HTTP ${response.status} ${response.statusText}`);
  }
  return await readBounded(response, size);
}

/** Writes under a private name, then renames: a parallel import never sees half a file. */
async function writeAtomically(path: string, bytes: Uint8Array): Promise<void> {
  const temp = `${path}.${Deno.pid}.${crypto.randomUUID()}.tmp`;
  try {
    await Deno.writeFile(temp, bytes, { mode: 0o644 });
    await Deno.rename(temp, path);
  } catch (e) {
    await Deno.remove(temp).catch(() => {});
    throw e;
  }
}

async function readIfPresent(path: string): Promise<Uint8Array<ArrayBuffer> | undefined> {
  try {
    return await Deno.readFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
}

/**
 * Returns the library for this architecture from the cache, downloading it first (from `lib/`
 * beside this package) when it is not there. Never throws: a failure is given in `error`.
 */
export async function remoteLibrary(): Promise<RemoteLibrary> {
  const manifestUrl = new URL("../lib/manifest.json", import.meta.url).href;
  let manifestJson: unknown;
  try {
    // A literal specifier: the manifest is part of the module graph (and of the publish set).
    manifestJson = (await import("../lib/manifest.json", { with: { type: "json" } })).default;
  } catch (e) {
    return {
      url: manifestUrl,
      error:
        `cannot read the library manifest (was the package built with \`deno task package\`?): ${
          message(e)
        }`,
    };
  }
  let url = manifestUrl;
  try {
    const manifest = parseManifest(manifestJson, manifestUrl);
    const entry = manifest.libraries[Deno.build.arch];
    if (Deno.build.os !== "linux" || !entry) {
      return {
        url,
        error: `no prebuilt library for ${Deno.build.os}/${Deno.build.arch} in this package ` +
          `(there are: ${Object.keys(manifest.libraries).join(", ")}, for linux)`,
      };
    }
    url = new URL(`../lib/${entry.file}`, import.meta.url).href;
    const dir = `${libraryCacheDir()}/${manifest.version}/${entry.sha256}`;
    const path = `${dir}/${entry.file}`;
    const cached = await readIfPresent(path);
    if (cached) {
      const actual = await sha256(cached);
      if (actual === entry.sha256) return { url, path };
      await Deno.remove(path).catch(() => {});
      return {
        url,
        error: `the cached ${path} has sha256 ${actual} but the package's manifest expects ` +
          `${entry.sha256}: refused and removed (the next import downloads it again)`,
      };
    }
    const bytes = await download(new URL(url), entry.size);
    const actual = await sha256(bytes);
    if (actual !== entry.sha256 || bytes.length !== entry.size) {
      return {
        url,
        error: `downloaded ${bytes.length} bytes with sha256 ${actual} but the package's ` +
          `manifest expects ${entry.size} bytes with sha256 ${entry.sha256}: refused, not kept`,
      };
    }
    await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
    await writeAtomically(path, bytes);
    return { url, path };
  } catch (e) {
    return { url, error: message(e) };
  }
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
