import { describe, expect, it } from "vitest";
import { DEFAULT_SETTINGS } from "../../settings";
import { input, withFilters } from "./test-helpers";
import { isWebCrawler, webCrawlersFilter } from "./web-crawlers";

describe("web-crawlers filter", () => {
  it("recognizes Relay's crawler list", () => {
    for (const ua of [
      "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
      "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
      "Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)",
      "Mozilla/5.0 (compatible; Yahoo! Slurp; http://help.yahoo.com/help/us/ysearch/slurp)",
      "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
      "facebot",
      "Twitterbot/1.0",
      "Pingdom.com_bot_version_1.4_(http://www.pingdom.com/)",
      "Mozilla/5.0 (Linux; Android 5.0) AppleWebKit/537.36 (KHTML, like Gecko) Mobile Safari/537.36 (compatible; Bytespider; spider-feedback@bytedance.com)",
      "Mozilla/5.0 (compatible; HubSpot Crawler; web-crawlers@hubspot.com)",
      "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
      "SomeCrawler/1.0",
    ]) {
      expect(isWebCrawler(ua), ua).toBe(true);
    }
  });
  it("keeps browsers and Slack's in-app browser", () => {
    for (const ua of [
      "Mozilla/5.0 (Windows NT 6.1) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/41.0.2228.0 Safari/537.36",
      "APIs-Google (+https://developers.google.com/webmasters/APIs-Google.html)",
      "Slackbot 1.0(+https://api.slack.com/robots)",
      "opera",
    ]) {
      expect(isWebCrawler(ua), ua).toBe(false);
    }
  });
  it("is on by default and can be switched off", () => {
    const bot = input({ userAgent: "Googlebot/2.1" });
    expect(webCrawlersFilter.check(bot, DEFAULT_SETTINGS)).toBe(true);
    expect(webCrawlersFilter.check(bot, withFilters({ webCrawlers: false }))).toBe(false);
    expect(webCrawlersFilter.check(input({ userAgent: null }), DEFAULT_SETTINGS)).toBe(false);
  });
});
