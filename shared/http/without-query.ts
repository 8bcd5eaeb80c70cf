// A URL or file name without its query and fragment, cut at the first `?` or `#` with indexOf: the
// regex /[?#].*$/ retries from every `?` up to a newline when one follows (`.` stops there and `$`
// fails), quadratic in hostile input (45 s on a 160 KB Sentry file name). Used by grouping (frame
// file names) and RUM (page names).

/** `s` up to its first `?` or `#`. */
export function withoutQuery(s: string): string {
  const q = s.indexOf("?");
  const h = s.indexOf("#");
  const cut = q === -1 ? h : h === -1 ? q : Math.min(q, h);
  return cut === -1 ? s : s.slice(0, cut);
}
