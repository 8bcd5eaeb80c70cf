// Search results for a project: matching events (newest first) and the issues they belong to.
// Reads the shared search backend directly (Elasticsearch or D1 FTS5, the same code behind
// GET /api/v1/projects/{id}/search), so the page works whichever backend is configured.
import type { Context } from "hono";
import { ClientError } from "../../../../shared/http/errors";
import { createSearchBackend, type SearchResult } from "../../../../shared/search/index";
import { metaDb } from "../../projects-store";
import { callApi } from "../api";
import { LevelBadge, StatusBadge, When } from "../components/badges";
import { Layout } from "../components/layout";
import { groupTitles } from "../data";
import { fmtNum } from "../format";
import type { UiEnv } from "../session";
import type { Project } from "../types";

export async function searchPage(c: Context<UiEnv>) {
  const id = c.req.param("id")!;
  const q = (c.req.query("q") ?? "").slice(0, 500);
  const cursor = c.req.query("cursor") || null;
  const environment = (c.req.query("environment") ?? "").trim().slice(0, 64);
  const release = (c.req.query("release") ?? "").trim().slice(0, 200);
  const project = await callApi<Project>(c, `/api/v1/projects/${id}`);
  let result: SearchResult | null = null;
  let error: string | null = null;
  try {
    result = await createSearchBackend(c.env).search({
      projectId: id,
      q: q || null,
      environment: environment || null,
      release: release || null,
      limit: 50,
      cursor,
    });
  } catch (err) {
    if (!(err instanceof ClientError)) throw err;
    error = err.message;
  }
  const titles = await groupTitles(await metaDb(c.env, id), id, result?.groups.map((g) => g.groupId) ?? []);
  return c.html(
    <Layout title={`Search: ${q}`} csrf={c.var.csrf} project={project} tab="search" q={q}>
      {error ? <div class="err">{error}</div> : null}
      <form method="get" class="actions facet-filters" style="margin-bottom:8px">
        <input type="hidden" name="q" value={q} />
        <input
          type="text"
          name="environment"
          value={environment}
          placeholder="environment"
          aria-label="Environment"
        />
        <input type="text" name="release" value={release} placeholder="release" aria-label="Release" />
        <button type="submit">Filter</button>
      </form>
      <p class="muted small">
        Free text matches messages and stack traces; narrow with <code>type:TypeError</code>,{" "}
        <code>level:error</code>, <code>release:1.2.3</code>, <code>environment:production</code>,{" "}
        <code>user:42</code>, <code>tags.key:value</code>, <code>"a phrase"</code>, <code>-excluded</code>.
      </p>
      {result ? (
        <div class="card">
          <h2 class="search-total">
            {fmtNum(result.total)}
            {result.totalRelation === "gte" ? "+" : ""} matching event{result.total === 1 ? "" : "s"}
            {result.groups.length > 0
              ? ` in ${result.groups.length} issue${result.groups.length === 1 ? "" : "s"}`
              : ""}
          </h2>
          {result.groups.length > 0 ? (
            <table class="search-groups" style="margin-bottom:12px">
              <tbody>
                {result.groups.map((g) => {
                  const t = titles.get(g.groupId);
                  return (
                    <tr>
                      <td>
                        <a href={`/ui/projects/${id}/groups/${g.groupId}`}>
                          <b>{t?.type ?? "Issue"}</b>
                        </a>{" "}
                        <span class="issue-msg">{t?.message ?? g.groupId}</span>
                      </td>
                      <td>{t ? <StatusBadge status={t.status} /> : null}</td>
                      <td class="num">
                        {fmtNum(g.count)} match{g.count === 1 ? "" : "es"}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          ) : null}
          {result.hits.length === 0 ? (
            <div class="empty">Nothing matches.</div>
          ) : (
            <table class="hits">
              <thead>
                <tr>
                  <th>Event</th>
                  <th>Release</th>
                  <th>Environment</th>
                  <th>When</th>
                </tr>
              </thead>
              <tbody>
                {result.hits.map((h) => (
                  <tr class="hit">
                    <td>
                      <a class="issue-title" href={`/ui/projects/${id}/events/${h.eventId}`}>
                        {h.type ?? "Message"}
                      </a>{" "}
                      <LevelBadge level={h.level} />
                      <div class="issue-msg">{h.message}</div>
                      {h.groupId ? (
                        <a class="small" href={`/ui/projects/${id}/groups/${h.groupId}`}>
                          issue →
                        </a>
                      ) : null}
                    </td>
                    <td class="mono small">{h.release ?? "—"}</td>
                    <td>{h.environment ?? "—"}</td>
                    <td>
                      <When iso={h.occurredAt} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {result.next ? (
            <p>
              <a href={`?${new URLSearchParams({ q, environment, release, cursor: result.next })}`}>
                Older matches →
              </a>
            </p>
          ) : null}
        </div>
      ) : null}
    </Layout>,
    error ? 400 : 200,
  );
}
