/**
 * Reading and comparing resctrl `schemata` lines ("L3:0=7f0;1=1f", "MB:0=20;1=70"): a group
 * that exists already is joined only when it holds what the config asks, and what the
 * kernel reads back is not what was written (leading zeros dropped, every domain listed,
 * the resource name indented).
 *
 * @module
 */

/** One schemata line: the resource and its value per domain id. */
export interface SchemaLine {
  /** "L3", "MB", "L3CODE", ... */
  resource: string;
  /** Domain id → value, as written ("7f0", "20"). */
  domains: Map<string, string>;
}

/** A line parsed, or undefined when it is not `RESOURCE:id=value;id=value...`. */
export function parseSchemaLine(line: string): SchemaLine | undefined {
  const colon = line.indexOf(":");
  if (colon <= 0) return undefined;
  const resource = line.slice(0, colon).trim();
  const domains = new Map<string, string>();
  for (const part of line.slice(colon + 1).split(";")) {
    const [id, value, extra] = part.split("=").map((s) => s.trim());
    if (!id || !value || extra !== undefined) return undefined;
    domains.set(id, value);
  }
  return resource === "" ? undefined : { resource, domains };
}

/** A value as compared: hex masks and decimal percentages alike lose case and leading zeros. */
function normal(value: string): string {
  return value.toLowerCase().replace(/^0+(?=.)/, "");
}

/**
 * The lines of `wanted` that the `schemata` text `current` does not hold: a resource it
 * does not list, or a domain whose value differs. A line that does not parse counts as
 * not held.
 */
export function schemataMismatches(wanted: readonly string[], current: string): string[] {
  const have = new Map<string, Map<string, string>>();
  for (const line of current.split("\n")) {
    const parsed = parseSchemaLine(line);
    if (parsed) have.set(parsed.resource, parsed.domains);
  }
  return wanted.filter((line) => {
    const parsed = parseSchemaLine(line);
    const domains = parsed && have.get(parsed.resource);
    if (!parsed || !domains) return true;
    for (const [id, value] of parsed.domains) {
      const held = domains.get(id);
      if (held === undefined || normal(held) !== normal(value)) return true;
    }
    return false;
  });
}
