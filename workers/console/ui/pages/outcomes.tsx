// Where a project's reports went: accepted versus each drop reason (filtered, sampled, rate
// limited, invalid, too large, client discards) over time, from the stats API.
import type { Context } from "hono";
import { callApi } from "../api";
import { CardHeader } from "../components/card-header";
import { Legend, type Series, StackedBarChart } from "../components/charts";
import { Layout } from "../components/layout";
import { fmtNum } from "../format";
import { queryOption } from "../input";
import type { UiEnv } from "../session";
import type { Project, Stats } from "../types";

const RANGES = {
  "24h": [24 * 3600_000, "1h", 3600_000],
  "14d": [14 * 86_400_000, "1d", 86_400_000],
} as const;
const DROP_COLORS = ["#f04438", "#f79009", "#7a5af8", "#ee46bc", "#0ba5ec", "#98a2b3", "#b54708", "#475467"];

/** "invalid: json" rather than "invalid: invalid:json" (reasons may repeat their outcome). */
const seriesKey = (outcome: string, reason: string) =>
  reason
    ? `${outcome}: ${reason.startsWith(`${outcome}:`) ? reason.slice(outcome.length + 1) : reason}`
    : outcome;

export async function outcomesPage(c: Context<UiEnv>) {
  const id = c.req.param("id")!;
  const range = queryOption(c, "range", RANGES, "24h");
  const [span, interval, step] = RANGES[range];
  const to = Date.now();
  const from = to - span;
  const [project, stats] = await Promise.all([
    callApi<Project>(c, `/api/v1/projects/${id}`),
    callApi<Stats>(c, `/api/v1/projects/${id}/stats?from=${from}&to=${to}&interval=${interval}`),
  ]);
  const times: string[] = [];
  for (let t = Math.floor(from / step) * step; t <= to; t += step) times.push(new Date(t).toISOString());
  // Rows are floored to the bucket here too, so minute-grained rows still land in the right bar.
  const index = new Map(times.map((t, i) => [Date.parse(t), i]));
  const byKey = new Map<string, number[]>();
  for (const r of stats.series) {
    const k = seriesKey(r.outcome, r.reason);
    let vals = byKey.get(k);
    if (!vals) byKey.set(k, (vals = new Array<number>(times.length).fill(0)));
    const i = index.get(Math.floor(Date.parse(r.t) / step) * step);
    if (i !== undefined) vals[i]! += r.quantity;
  }
  const keys = [...byKey.keys()].sort((a, b) =>
    a === "accepted" ? -1 : b === "accepted" ? 1 : a.localeCompare(b),
  );
  let drop = 0;
  const series: Series[] = keys.map((k) => ({
    label: k,
    color: k === "accepted" ? "#12b76a" : DROP_COLORS[drop++ % DROP_COLORS.length]!,
    values: byKey.get(k)!,
  }));
  const accepted = stats.totals.filter((t) => t.outcome === "accepted").reduce((s, t) => s + t.quantity, 0);
  const dropped = stats.totals.filter((t) => t.outcome !== "accepted").reduce((s, t) => s + t.quantity, 0);
  return c.html(
    <Layout title={`${project.name} · Outcomes`} csrf={c.var.csrf} project={project} tab="outcomes">
      <div class="card stats">
        <div class="stat">
          <b style="color:#067647">{fmtNum(accepted)}</b>
          <span>accepted</span>
        </div>
        <div class="stat">
          <b style="color:#d92d20">{fmtNum(dropped)}</b>
          <span>dropped</span>
        </div>
        <div class="stat">
          <b>{accepted + dropped > 0 ? `${((dropped / (accepted + dropped)) * 100).toFixed(1)}%` : "—"}</b>
          <span>drop rate</span>
        </div>
      </div>
      <div class="card">
        <CardHeader
          title={<>Accepted vs dropped, per {interval === "1h" ? "hour" : "day"}</>}
          ranges={Object.keys(RANGES)}
          current={range}
        />
        {series.length === 0 ? (
          <div class="empty">Nothing received in this period.</div>
        ) : (
          <>
            <StackedBarChart times={times} series={series} stepMs={step} />
            <Legend series={series} />
          </>
        )}
      </div>
      <div class="card">
        <h2>Totals by category and reason</h2>
        <table class="outcome-totals">
          <thead>
            <tr>
              <th>Category</th>
              <th>Outcome</th>
              <th>Reason</th>
              <th class="num">Items</th>
            </tr>
          </thead>
          <tbody>
            {[...stats.totals]
              .sort((a, b) => b.quantity - a.quantity)
              .map((t) => (
                <tr>
                  <td>{t.category}</td>
                  <td>{t.outcome}</td>
                  <td class="mono small">{t.reason || "—"}</td>
                  <td class="num">{fmtNum(t.quantity)}</td>
                </tr>
              ))}
          </tbody>
        </table>
      </div>
    </Layout>,
  );
}
