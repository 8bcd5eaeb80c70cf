// Case-insensitive JSON key look-up: Raygun SDKs send PascalCase (raygun4js, .NET, PHP) or
// camelCase (Node, Python, Java, ...) and odd spellings (iPAddress, IPAddress, oSVersion).

export type JsonObject = Record<string, unknown>;

export function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Returns the value of the first key matching any of `names` (compared lower-cased). */
export function getCI(obj: unknown, ...names: string[]): unknown {
  if (!isObject(obj)) return undefined;
  for (const name of names) {
    const direct = obj[name];
    if (direct !== undefined) return direct;
  }
  const wanted = names.map((n) => n.toLowerCase());
  for (const key in obj) {
    if (wanted.includes(key.toLowerCase())) return obj[key];
  }
  return undefined;
}

export function getObjectCI(obj: unknown, ...names: string[]): JsonObject | null {
  const v = getCI(obj, ...names);
  return isObject(v) ? v : null;
}

/** A string, or a number/boolean coerced to one; anything else is null. */
export function getStringCI(obj: unknown, ...names: string[]): string | null {
  const v = getCI(obj, ...names);
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  return null;
}

/** A finite number, or a numeric string coerced to one (raygun4js sends timings as strings). */
export function getNumberCI(obj: unknown, ...names: string[]): number | null {
  const v = getCI(obj, ...names);
  if (typeof v === "number" && Number.isFinite(v)) return v;
  if (typeof v === "string" && v.trim() !== "") {
    const n = Number(v);
    return Number.isFinite(n) ? n : null;
  }
  return null;
}

export function getArrayCI(obj: unknown, ...names: string[]): unknown[] {
  const v = getCI(obj, ...names);
  return Array.isArray(v) ? v : [];
}
