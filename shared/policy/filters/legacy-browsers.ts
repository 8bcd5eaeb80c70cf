// Filter 6 (opt-in, off by default): drops errors from browsers too old to be worth fixing for.
// Relay's default set plus EdgeHTML: every Internet Explorer (≤ 11, desktop and mobile), EdgeHTML
// (Edge 12–18), Presto Opera (< 15), Opera Mini < 8, the stock Android browser < 4, Safari < 6.
// A few regexes instead of a full UA parser: the edge must stay cheap.

import type { InboundFilter } from "./types";

const IE = /MSIE \d|Trident\/\d|IEMobile\//;
const EDGE_HTML = /\bEdge\/(\d+)/;
const OPERA_MINI = /Opera Mini\/(\d+)/;
const OPERA_PRESTO = /^Opera\/\d.*?Version\/(\d+)/;
const OPERA_BLINK = /\bOPR\/(\d+)/;
const ANDROID = /Android (\d+)/;
// Bounded runs: with `[^ ]*`, "Version/1" repeated without a space made every start rescan the rest.
const SAFARI_VERSION = /Version\/(\d+)[^ ]{0,64} (?:Mobile\/\S{1,64} )?Safari\//;
const NOT_SAFARI = /Chrome\/|CriOS\/|Chromium\/|Android|OPR\//;

export const legacyBrowsersFilter: InboundFilter = {
  name: "legacy-browsers",
  check(input, settings) {
    if (!settings.filters.legacyBrowsers || !input.userAgent) return false;
    return isLegacyBrowser(input.userAgent);
  },
};

export function isLegacyBrowser(ua: string): boolean {
  if (IE.test(ua)) return true;
  let m = EDGE_HTML.exec(ua);
  if (m) return Number(m[1]) < 79;
  m = OPERA_MINI.exec(ua);
  if (m) return Number(m[1]) < 8;
  m = OPERA_PRESTO.exec(ua) ?? OPERA_BLINK.exec(ua);
  if (m) return Number(m[1]) < 15;
  m = ANDROID.exec(ua);
  // Only the stock Android browser ("Version/x ... Safari" without Chrome) is judged by Android's version.
  if (m && !ua.includes("Chrome/")) return Number(m[1]) < 4;
  if (!NOT_SAFARI.test(ua)) {
    m = SAFARI_VERSION.exec(ua);
    if (m) return Number(m[1]) < 6;
  }
  return false;
}
