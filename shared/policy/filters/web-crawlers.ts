// Filter 7: drops reports sent by search engines, link unfurlers and uptime robots, using Relay's
// user-agent list (relay-filter/src/web_crawlers.rs) plus facebot, generic "crawler" and Raygun's
// own RaygunPulseInsightsCrawler.

import type { InboundFilter } from "./types";

const WEB_CRAWLERS =
  /Mediapartners-Google|AdsBot-Google|Googlebot|FeedFetcher-Google|BingBot|BingPreview|Baiduspider|Slurp|Sogou|facebook|facebot|ia_archiver|bots?[/\s);]|spider[/\s);]|crawler[/\s);]|Slack|Calypso\sAppCrawler|pingdom|lyticsbot|AWS\sSecurity\sScanner|HubSpot\sCrawler|Bytespider|Better\sUptime|RaygunPulseInsightsCrawler/i;

/** Slack's in-app browser is a real user, unlike its link expander (Relay's exception). */
const ALLOWED = /Slackbot\s1\.\d+/i;

export const webCrawlersFilter: InboundFilter = {
  name: "web-crawlers",
  check(input, settings) {
    if (!settings.filters.webCrawlers || !input.userAgent) return false;
    return isWebCrawler(input.userAgent);
  },
};

export function isWebCrawler(ua: string): boolean {
  return WEB_CRAWLERS.test(ua) && !ALLOWED.test(ua);
}
