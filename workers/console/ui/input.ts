// Reading user input on dashboard pages: form bodies and query options. A malformed body or an
// unknown option is the client's mistake, so both end in a 400 page that says what was expected.
// Options are looked up as own properties only: `range=constructor` must not find Object's.

import type { Context } from "hono";
import { ApiError } from "./api";

type Form = Record<string, string | File | (string | File)[]>;

/** The submitted form fields ({} for a body that is not a form); a malformed body is a 400. */
export async function readForm(c: Context): Promise<Form> {
  try {
    return (await c.req.parseBody()) as Form;
  } catch {
    throw new ApiError(400, "malformed form body");
  }
}

/**
 * The value of query parameter `name` if it is a key of `options`, `fallback` when it is absent
 * or empty; anything else is a 400 listing the valid values.
 *
 * @example const range = queryOption(c, "range", RANGES, "24h");
 */
export function queryOption<K extends string, F = K>(
  c: Context,
  name: string,
  options: Readonly<Record<K, unknown>>,
  fallback: F,
): K | F {
  const v = c.req.query(name);
  if (v === undefined || v === "") return fallback;
  if (Object.hasOwn(options, v)) return v as K;
  throw new ApiError(400, `${name} must be one of ${Object.keys(options).join(", ")}`);
}
