// A project's issues (error groups): what crashed, how often, since when, trending how (a 24 h
// sparkline), with a status filter and resolve / ignore / reopen actions; plus the status change.
import type { Context } from "hono";
import { metaDb } from "../../projects-store";
import { callApi } from "../api";
import { LevelBadge, StatusBadge, When } from "../components/badges";
import { Sparkline } from "../components/charts";
import { Layout } from "../components/layout";
import { StatusActions } from "../components/status-actions";
import { sparklines } from "../data";
import { fmtNum } from "../format";
import { queryOption, readForm } from "../input";
import { safeNext, type UiEnv } from "../session";
import type { Group, Project } from "../types";

const FILTERS = [
  ["", "All"],
  ["active", "Active"],
  ["resolved", "Resolved"],
  ["ignored", "Ignored"],
] as const;
const STATUSES = { active: 1, resolved: 1, ignored: 1 } as const;

export async function groupsPage(c: Context<UiEnv>) {
  const id = c.req.param("id")!;
  const status = queryOption(c, "status", STATUSES, "");
  const cursor = c.req.query("cursor") ?? "";
  const qs = new URLSearchParams({ limit: "50" });
  if (status) qs.set("status", status);
  if (cursor) qs.set("cursor", cursor);
  const [project, list] = await Promise.all([
    callApi<Project>(c, `/api/v1/projects/${id}`),
    callApi<{ groups: Group[]; next: string | null }>(c, `/api/v1/projects/${id}/groups?${qs}`),
  ]);
  const sparks = await sparklines(
    await metaDb(c.env, id),
    id,
    list.groups.map((g) => g.id),
  );
  const last24 = [...sparks.values()].reduce((s, v) => s + v.reduce((a, b) => a + b, 0), 0);
  const here = new URL(c.req.url);
  const back = here.pathname + here.search;
  const now = Date.now();
  return c.html(
    <Layout title={`${project.name} · Issues`} csrf={c.var.csrf} project={project} tab="issues">
      <div class="card stats">
        <div class="stat">
          <b>{fmtNum(list.groups.length)}</b>
          <span>issues{status ? ` (${status})` : ""} shown</span>
        </div>
        <div class="stat">
          <b>{fmtNum(list.groups.filter((g) => g.status === "active").length)}</b>
          <span>active</span>
        </div>
        <div class="stat">
          <b>{fmtNum(last24)}</b>
          <span>events in the last 24 h</span>
        </div>
      </div>
      <div class="card">
        <div class="filters">
          Status:{" "}
          {FILTERS.map(([s, label]) => (
            <a class={status === s ? "on" : ""} href={s ? `?status=${s}` : "?"}>
              {label}
            </a>
          ))}
        </div>
        {list.groups.length === 0 ? (
          <div class="empty">
            No issues{status ? ` with status ${status}` : ""} yet.{" "}
            <a href={`/ui/projects/${id}/setup`}>Send your first error →</a>
          </div>
        ) : (
          <table class="groups">
            <thead>
              <tr>
                <th>Issue</th>
                <th>Status</th>
                <th class="num">Events</th>
                <th>Last 24 h</th>
                <th>First seen</th>
                <th>Last seen</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {list.groups.map((g) => (
                <tr class="group-row" data-group-id={g.id}>
                  <td>
                    <a class="issue-title" href={`/ui/projects/${id}/groups/${g.id}`}>
                      {g.type ?? "Message"}
                    </a>{" "}
                    <LevelBadge level={g.level} />
                    <div class="issue-msg">{g.message}</div>
                    {g.culprit ? <div class="muted small mono">{g.culprit}</div> : null}
                  </td>
                  <td>
                    <StatusBadge status={g.status} regressedAt={g.regressedAt} />
                  </td>
                  <td class="num">{fmtNum(g.count)}</td>
                  <td>
                    <Sparkline values={sparks.get(g.id) ?? []} label={`events per hour, last 24 h`} />
                  </td>
                  <td>
                    <When iso={g.firstSeen} now={now} />
                  </td>
                  <td>
                    <When iso={g.lastSeen} now={now} />
                  </td>
                  <td>
                    <StatusActions
                      projectId={id}
                      groupId={g.id}
                      status={g.status}
                      csrf={c.var.csrf}
                      back={back}
                    />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {list.next ? (
          <p>
            <a href={`?${new URLSearchParams({ ...(status ? { status } : {}), cursor: list.next })}`}>
              Older issues →
            </a>
          </p>
        ) : null}
      </div>
    </Layout>,
  );
}

export async function groupStatusSubmit(c: Context<UiEnv>) {
  const { id, groupId } = c.req.param() as { id: string; groupId: string };
  const form = await readForm(c);
  await callApi(c, `/api/v1/projects/${id}/groups/${groupId}`, {
    method: "PATCH",
    body: { status: form.status },
  });
  return c.redirect(safeNext(form.back), 303);
}
