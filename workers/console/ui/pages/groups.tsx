// A project's issues (error groups): what crashed, how often, since when, trending how (a 24 h
// sparkline), with status / environment / release filters, resolve / ignore / reopen actions and
// merging of selected issues (group-merge.ts); plus the status change.
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
  const environment = (c.req.query("environment") ?? "").trim().slice(0, 64);
  const release = (c.req.query("release") ?? "").trim().slice(0, 200);
  const facets = { ...(environment ? { environment } : {}), ...(release ? { release } : {}) };
  const qs = new URLSearchParams({ limit: "50", ...facets });
  if (status) qs.set("status", status);
  if (cursor) qs.set("cursor", cursor);
  const filterQs = (extra: Record<string, string>) => `?${new URLSearchParams({ ...facets, ...extra })}`;
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
            <a class={status === s ? "on" : ""} href={filterQs(s ? { status: s } : {})}>
              {label}
            </a>
          ))}
        </div>
        <form method="get" class="actions facet-filters" style="margin:8px 0">
          {status ? <input type="hidden" name="status" value={status} /> : null}
          <input
            type="text"
            name="environment"
            value={environment}
            placeholder="environment"
            aria-label="Environment"
          />
          <input type="text" name="release" value={release} placeholder="release" aria-label="Release" />
          <button type="submit">Filter</button>
          {environment || release ? <a href={status ? `?status=${status}` : "?"}>Clear</a> : null}
        </form>
        <form method="post" action={`/ui/projects/${id}/groups/merge`} id="merge-form" class="actions">
          <input type="hidden" name="csrf" value={c.var.csrf} />
          <button type="submit" data-action="merge">
            Merge selected
          </button>
          <span class="muted small">into the selected issue with the most events</span>
        </form>
        {list.groups.length === 0 ? (
          <div class="empty">
            No issues{status ? ` with status ${status}` : ""}
            {environment ? ` in environment ${environment}` : ""}
            {release ? ` in release ${release}` : ""} yet.{" "}
            <a href={`/ui/projects/${id}/setup`}>Send your first error →</a>
          </div>
        ) : (
          <table class="groups">
            <thead>
              <tr>
                <th />
                <th>Issue</th>
                <th>Status</th>
                <th class="num">Events</th>
                <th class="num">Users</th>
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
                    <input
                      type="checkbox"
                      name="groups"
                      value={g.id}
                      form="merge-form"
                      aria-label={`select ${g.type ?? "issue"} for merging`}
                    />
                  </td>
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
                  <td class="num users-count">{fmtNum(g.users)}</td>
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
            <a href={filterQs({ ...(status ? { status } : {}), cursor: list.next })}>Older issues →</a>
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
