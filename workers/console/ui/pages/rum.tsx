// Real-user monitoring: page views and load-time percentiles (p50 / p75 / p95) per page.
import type { Context } from "hono";
import { callApi } from "../api";
import { CardHeader } from "../components/card-header";
import { Layout } from "../components/layout";
import { fmtMs, fmtNum } from "../format";
import { queryOption } from "../input";
import type { UiEnv } from "../session";
import type { Project, RumPage } from "../types";

export const PERIODS = { "24h": 86_400_000, "7d": 7 * 86_400_000, "30d": 30 * 86_400_000 } as const;

export async function rumPage(c: Context<UiEnv>) {
  const id = c.req.param("id")!;
  const period = queryOption(c, "range", PERIODS, "24h");
  const to = Date.now();
  const [project, { pages }] = await Promise.all([
    callApi<Project>(c, `/api/v1/projects/${id}`),
    callApi<{ pages: RumPage[] }>(
      c,
      `/api/v1/projects/${id}/rum/pages?from=${to - PERIODS[period]}&to=${to}`,
    ),
  ]);
  const maxP95 = Math.max(1, ...pages.map((p) => p.p95Ms ?? 0));
  const views = pages.reduce((s, p) => s + p.views, 0);
  return c.html(
    <Layout title={`${project.name} · Pages`} csrf={c.var.csrf} project={project} tab="rum">
      <div class="card">
        <CardHeader
          title={
            <>
              {fmtNum(views)} page views on {fmtNum(pages.length)} pages
            </>
          }
          ranges={Object.keys(PERIODS)}
          current={period}
        />
        {pages.length === 0 ? (
          <div class="empty">
            No page views yet. Enable <code>rg4js('enablePulse', true)</code> in raygun4js (see Setup).
          </div>
        ) : (
          <table class="rum">
            <thead>
              <tr>
                <th>Page</th>
                <th class="num">Views</th>
                <th class="num">Avg load</th>
                <th class="num">p50</th>
                <th class="num">p75</th>
                <th class="num">p95</th>
                <th>p95 compared</th>
              </tr>
            </thead>
            <tbody>
              {pages.map((p) => (
                <tr>
                  <td class="mono" style="word-break:break-all">
                    {p.page}
                  </td>
                  <td class="num">{fmtNum(p.views)}</td>
                  <td class="num">{fmtMs(p.avgLoadMs)}</td>
                  <td class="num">{fmtMs(p.p50Ms)}</td>
                  <td class="num">{fmtMs(p.p75Ms)}</td>
                  <td class="num">{fmtMs(p.p95Ms)}</td>
                  <td>
                    <div class="bar">
                      <i style={`width:${(((p.p95Ms ?? 0) / maxP95) * 100).toFixed(1)}%`} />
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <p class="muted small">
          Percentiles are the upper bound of the load-time histogram bucket that holds them (≤ 50 ms … ≤ 20
          s).
        </p>
      </div>
    </Layout>,
  );
}
