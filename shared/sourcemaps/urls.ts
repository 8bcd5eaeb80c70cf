// URL matching for release-bound artifacts, as Sentry does it: an uploaded file's URL and a stack
// frame's URL are compared by path alone, written `~/path` (scheme, host, query and fragment
// dropped), so `https://cdn.example.com/static/app.js?v=3` finds the file uploaded as
// `~/static/app.js`. A minified file names its map relative to itself (`sourcemap` header).

const MAX_URL = 2048;

/** `~/path` of a URL, an absolute path or an already `~/` URL; null for nothing usable. */
export function tildeUrl(raw: string | null | undefined): string | null {
  if (!raw) return null;
  let s = raw.trim().slice(0, MAX_URL);
  if (s.startsWith("~/")) s = s.slice(1);
  else {
    const scheme = /^[a-z][a-z0-9+.-]*:\/\/[^/]*/i.exec(s);
    if (scheme) s = s.slice(scheme[0].length);
    else if (/^[a-z][a-z0-9+.-]*:/i.test(s) && !s.startsWith("/")) s = s.slice(s.indexOf(":") + 1);
  }
  s = s.replace(/[?#].*$/, "").replace(/\\/g, "/");
  if (!s.startsWith("/")) s = `/${s}`;
  s = s.replace(/\/{2,}/g, "/");
  return s === "/" ? null : `~${s}`;
}

/** Resolves a `sourcemap` reference against the `~/` URL of the file that names it. */
export function resolveMapUrl(fileUrl: string, reference: string): string | null {
  const ref = reference.trim();
  if (!ref || ref.startsWith("data:")) return null;
  if (ref.startsWith("~/") || /^[a-z][a-z0-9+.-]*:\/\//i.test(ref)) return tildeUrl(ref);
  try {
    const resolved = new URL(ref, `http://tilde${fileUrl.slice(1)}`);
    return tildeUrl(resolved.pathname);
  } catch {
    return null;
  }
}

/** A readable original path from a map's `sources` entry: `webpack://app/./src/a.js` → `src/a.js`. */
export function cleanSourcePath(source: string): string {
  let s = source.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/]*\/?/i, "");
  s = s.replace(/^(\.\.?\/)+/, "").replace(/^\/+/, "");
  return s.slice(0, 500) || source.slice(0, 500);
}

/** Original files from dependencies or vendor bundles are not the application's own code. */
export function isVendorPath(path: string): boolean {
  return (
    /(^|\/)(node_modules|bower_components|vendor|jspm_packages)\//.test(path) ||
    /^webpack\/(bootstrap|runtime)/.test(path)
  );
}
