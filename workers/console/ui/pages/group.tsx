// One issue: how often (occurrence chart), since when, where in the code (the latest event's stack
// trace), which releases and environments, and its recent events.
import type { Context } from "hono";
import { metaDb } from "../../projects-store";
import { ApiError, callApi } from "../api";
import { LevelBadge, StatusBadge, When } from "../components/badges";
import { CardHeader } from "../components/card-header";
import { StackedBarChart } from "../components/charts";
import { type Feedback, FeedbackList } from "../components/feedback-list";
import { Layout } from "../components/layout";
import { Exceptions } from "../components/stack-trace";
import { StatusActions } from "../components/status-actions";
import { occurrences, releaseBreakdown } from "../data";
import { absTime, fmtNum } from "../format";
import { queryOption } from "../input";
import type { UiEnv } from "../session";
import type { EventDetail, EventSummary, Group, Project } from "../types";

/** Range → [bucket size, bucket count]. */
const RANGES = { "24h": [3600_000, 24], "14d": [86_400_000, 14], "90d": [86_400_000, 90] } as const;
type Range = keyof typeof RANGES;

export async function groupPage(c: Context<UiEnv>) {
  const { id, groupId } = c.req.param() as { id: string; groupId: string };
  const range: Range = queryOption(c, "range", RANGES, "14d");
  const base = `/api/v1/projects/${id}/groups/${groupId}`;
  const db = await metaDb(c.env, id);
  const [project, group, hist, list, releases, feedback] = await Promise.all([
    callApi<Project>(c, `/api/v1/projects/${id}`),
    callApi<Group>(c, base),
    occurrences(db, id, [groupId], RANGES[range][0], RANGES[range][1]),
    callApi<{ events: EventSummary[]; next: string | null }>(c, `${base}/events?limit=25`),
    releaseBreakdown(db, id, groupId),
    callApi<{ feedback: Feedback[] }>(c, `${base}/feedback?limit=20`),
  ]);
  // A merged issue lives on in the one it was merged into.
  if (group.mergedInto) return c.redirect(`/ui/projects/${id}/groups/${group.mergedInto}`, 302);
  const latestId = group.lastEventId ?? list.events[0]?.id;
  const latest = latestId
    ? await callApi<EventDetail>(c, `/api/v1/projects/${id}/events/${latestId}`).catch((e) => {
        if (e instanceof ApiError && e.status === 404) return null;
        throw e;
      })
    : null;
  const stepMs = RANGES[range][0];
  const counts = hist.counts.get(groupId) ?? [];
  const here = new URL(c.req.url);
  return c.html(
    <Layout title={group.message} csrf={c.var.csrf} project={project} tab="issues">
      <div class="card">
        <div class="actions" style="justify-content:space-between;align-items:flex-start">
          <div style="flex:1;min-width:300px">
            <h1 class="group-type">
              {group.type ?? "Message"} <LevelBadge level={group.level} />{" "}
              <StatusBadge status={group.status} regressedAt={group.regressedAt} />
            </h1>
            <div class="group-message" style="font-size:15px;word-break:break-word">
              {group.message}
            </div>
            {group.culprit ? <div class="muted mono">in {group.culprit}</div> : null}
          </div>
          <StatusActions
            projectId={id}
            groupId={groupId}
            status={group.status}
            csrf={c.var.csrf}
            back={here.pathname + here.search}
          />
        </div>
        <div class="stats" style="margin-top:14px">
          <div class="stat">
            <b>{fmtNum(group.count)}</b>
            <span>events</span>
          </div>
          <div class="stat">
            <b class="users-count">{fmtNum(group.users)}</b>
            <span>affected users (±3 %)</span>
          </div>
          <div class="stat">
            <b>
              <When iso={group.firstSeen} />
            </b>
            <span>first seen · {absTime(group.firstSeen)}</span>
          </div>
          <div class="stat">
            <b>
              <When iso={group.lastSeen} />
            </b>
            <span>last seen · {absTime(group.lastSeen)}</span>
          </div>
          <div class="stat">
            <b>{group.lastRelease ?? "—"}</b>
            <span>latest release</span>
          </div>
          {group.regressedAt ? (
            <div class="stat regressed">
              <b>
                <When iso={group.regressedAt} />
              </b>
              <span>regressed (new event after it was resolved)</span>
            </div>
          ) : null}
        </div>
      </div>
      <div class="card">
        <CardHeader title="Occurrences" ranges={Object.keys(RANGES)} current={range} />
        <StackedBarChart
          times={hist.times}
          series={[{ label: "events", color: "#6366f1", values: counts }]}
          stepMs={stepMs}
        />
      </div>
      <div class="card">
        <div class="actions" style="justify-content:space-between">
          <h2 style="margin:0">Latest event</h2>
          {latestId ? <a href={`/ui/projects/${id}/events/${latestId}`}>Open full event →</a> : null}
        </div>
        {latest?.event ? (
          <>
            <p class="muted small">
              <When iso={latest.summary.occurredAt} /> · release {latest.summary.release ?? "—"} · environment{" "}
              {latest.summary.environment ?? "—"} · user {latest.summary.user ?? "—"}
            </p>
            <Exceptions exceptions={latest.event.exceptions} fallbackMessage={latest.event.message} />
          </>
        ) : (
          <p class="muted">The latest event's payload is no longer stored.</p>
        )}
      </div>
      <FeedbackList projectId={id} feedback={feedback.feedback} showEvent />
      <div class="grid">
        <div class="card">
          <h2>Releases and environments</h2>
          <table>
            <thead>
              <tr>
                <th>Release</th>
                <th>Environment</th>
                <th class="num">Events</th>
                <th>Last seen</th>
              </tr>
            </thead>
            <tbody>
              {releases.map((r) => (
                <tr>
                  <td class="mono">{r.release ?? "—"}</td>
                  <td>{r.environment ?? "—"}</td>
                  <td class="num">{fmtNum(r.count)}</td>
                  <td>
                    <When iso={r.lastSeen} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <div class="card">
          <h2>Recent events</h2>
          <table class="events">
            <tbody>
              {list.events.map((e) => (
                <tr>
                  <td>
                    <a href={`/ui/projects/${id}/events/${e.id}`}>
                      <When iso={e.occurredAt} />
                    </a>
                  </td>
                  <td class="issue-msg">{e.message ?? ""}</td>
                  <td class="mono small">{e.release ?? ""}</td>
                  <td class="small">{e.user ?? ""}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </div>
    </Layout>,
  );
}
