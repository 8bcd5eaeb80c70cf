// What a target receives: the webhook's JSON document (the issue's contract) and the Slack
// incoming-webhook message (text plus blocks; Mattermost's and Discord's Slack-compatible endpoints
// read `text`). Every value from an event is data: Slack's mrkdwn control characters are escaped.

import type { AlertMessage } from "./message";

export interface WebhookPayload {
  trigger: AlertMessage["trigger"];
  rule: { id: string; name: string };
  project: { id: string; name: string };
  group: {
    id: string;
    type: string | null;
    message: string;
    level: string;
    count: number;
    firstSeen: string;
    lastSeen: string;
    status: string;
    url: string;
  } | null;
  event: { id: string; occurredAt: string; release: string | null; environment: string | null } | null;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** `dashboardUrl` is the console's public base ("" gives a path). */
export function webhookPayload(
  alert: AlertMessage,
  rule: { id: string; name: string },
  project: { id: number; name: string },
  dashboardUrl: string,
): WebhookPayload {
  const base = dashboardUrl.replace(/\/+$/, "");
  const g = alert.group;
  return {
    trigger: alert.trigger,
    rule: { id: rule.id, name: rule.name },
    project: { id: String(project.id), name: project.name },
    group: g && {
      id: g.id,
      type: g.type,
      message: g.message,
      level: g.level,
      count: g.count,
      firstSeen: iso(g.firstSeen),
      lastSeen: iso(g.lastSeen),
      status: g.status,
      url: `${base}/ui/projects/${project.id}/groups/${g.id}`,
    },
    event: alert.event,
  };
}

const HEADLINES: Record<WebhookPayload["trigger"], string> = {
  new_issue: "New issue",
  regression: "Regression",
  spike: "Spike",
  frequency: "Frequency threshold exceeded",
  test: "Test alert",
};

/** Slack mrkdwn: &, < and > are its only control characters; long text is cut. */
const esc = (s: string, max = 300) =>
  (s.length > max ? `${s.slice(0, max)}…` : s)
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;");

export function slackMessage(p: WebhookPayload): { text: string; blocks: unknown[] } {
  const head = `${HEADLINES[p.trigger]} in ${esc(p.project.name, 100)} (rule ${esc(p.rule.name, 100)})`;
  const g = p.group;
  const title = g
    ? `${g.type ? `${esc(g.type, 100)}: ` : ""}${esc(g.message)}`
    : "Sluice can reach this target.";
  const text = `${head}: ${title}`;
  const fields = g
    ? [
        `*Events:* ${g.count}`,
        `*Level:* ${esc(g.level, 20)}`,
        `*First seen:* ${g.firstSeen}`,
        `*Release:* ${esc(p.event?.release ?? "—", 100)}`,
      ].map((t) => ({ type: "mrkdwn", text: t }))
    : [];
  const blocks: unknown[] = [
    {
      type: "section",
      text: {
        type: "mrkdwn",
        text: `*${head}*\n${g?.url.startsWith("http") ? `<${g.url}|${title}>` : title}`,
      },
    },
  ];
  if (fields.length > 0) blocks.push({ type: "section", fields });
  return { text, blocks };
}
