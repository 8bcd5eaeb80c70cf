// Filter 5: drops errors caused by browser extensions and injected third-party scripts, using
// Relay's two lists (relay-filter/src/browser_extensions.rs): known exception values, and known
// sources matched against the raising frame's URL (extension schemes, injected script hosts).

import type { InboundFilter } from "./types";

/** Substrings of exception values that only extensions / injected scripts produce. */
const EXTENSION_VALUES =
  /top\.GLOBALS|originalCreateNotification|canvas\.contentDocument|MyApp_RemoveAllHighlights|http:\/\/tt\.epicplay\.com|Can't\sfind\svariable:\sZiteReader|jigsaw\sis\snot\sdefined|ComboSearch\sis\snot\sdefined|http:\/\/loading\.retry\.widdit\.com\/|atomicFindClose|fb_xd_fragment|bmi_SafeAddOnload|EBCallBackMessageReceived|_gCrWeb|conduitPage|null\sis\snot\san\sobject\s\(evaluating\s'elt\.parentNode'\)|plugin\.setSuspendState\sis\snot\sa\sfunction|Extension\scontext\sinvalidated|webkit-masked-url:|can't\saccess\sdead\sobject/i;

/** Script sources that are extensions or notoriously flaky injected scripts. */
const EXTENSION_SOURCES =
  /graph\.facebook\.com|connect\.facebook\.net|eatdifferent\.com\.woopra-ns\.com|static\.woopra\.com\/js\/woopra\.js|^chrome(-extension)?:\/\/|^moz-extension:\/\/|^safari(-web)?-extension:\/\/|webkit-masked-url|127\.0\.0\.1:4001\/isrunning|webappstoolbarba\.texthelp\.com\/|metrics\.itunes\.apple\.com\.edgesuite\.net\/|kaspersky-labs\.com/i;

/** Frames that tell nothing about where the code came from. */
const ANONYMOUS_FRAMES = new Set(["<anonymous>", "[native code]"]);

export const browserExtensionsFilter: InboundFilter = {
  name: "browser-extensions",
  check(input, settings) {
    if (!settings.filters.browserExtensions) return false;
    for (const m of input.messages) if (EXTENSION_VALUES.test(m)) return true;
    // Like Relay, only the raising frame decides: an extension deeper in the stack (e.g. one
    // wrapping addEventListener) does not make the page's own error an extension error.
    for (const file of input.frameFilenames) {
      if (ANONYMOUS_FRAMES.has(file)) continue;
      return EXTENSION_SOURCES.test(file);
    }
    return false;
  },
};
