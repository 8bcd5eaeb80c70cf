// Release health: sessions and crash-free rate per release and environment (Sentry sessions).
import type { Context } from "hono";
import { callApi } from "../api";
import { CardHeader } from "../components/card-header";
import { Layout } from "../components/layout";
import { fmtNum, fmtPct } from "../format";
import { queryOption } from "../input";
import type { UiEnv } from "../session";
import type { Project, ReleaseHealth } from "../types";
import { PERIODS } from "./rum";

const rateColor = (r: number | null) =>
  r == null ? "#98a2b3" : r >= 0.995 ? "#12b76a" : r >= 0.98 ? "#f79009" : "#f04438";

export async function releasesPage(c: Context<UiEnv>) {
  const id = c.req.param("id")!;
  const period = queryOption(c, "range", PERIODS, "7d");
  const to = Date.now();
  const [project, { releases }] = await Promise.all([
    callApi<Project>(c, `/api/v1/projects/${id}`),
    callApi<{ releases: ReleaseHealth[] }>(
      c,
      `/api/v1/projects/${id}/releases?from=${to - PERIODS[period]}&to=${to}`,
    ),
  ]);
  return c.html(
    <Layout title={`${project.name} · Release health`} csrf={c.var.csrf} project={project} tab="releases">
      <div class="card">
        <CardHeader title="Crash-free sessions per release" ranges={Object.keys(PERIODS)} current={period} />
        {releases.length === 0 ? (
          <div class="empty">
            No sessions yet. Sentry SDKs send them automatically when a release is set (autoSessionTracking).
          </div>
        ) : (
          <table class="releases">
            <thead>
              <tr>
                <th>Release</th>
                <th>Environment</th>
                <th class="num">Sessions</th>
                <th class="num">Crashed</th>
                <th class="num">Errored</th>
                <th class="num">Abnormal</th>
                <th class="num">Crash-free</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {releases.map((r) => (
                <tr>
                  <td class="mono">{r.release}</td>
                  <td>{r.environment || "—"}</td>
                  <td class="num">{fmtNum(r.sessions)}</td>
                  <td class="num">{fmtNum(r.crashed)}</td>
                  <td class="num">{fmtNum(r.errored)}</td>
                  <td class="num">{fmtNum(r.abnormal)}</td>
                  <td class="num" style={`color:${rateColor(r.crashFreeRate)};font-weight:600`}>
                    {fmtPct(r.crashFreeRate)}
                  </td>
                  <td>
                    <div class="bar">
                      <i
                        style={`width:${((r.crashFreeRate ?? 0) * 100).toFixed(1)}%;background:${rateColor(r.crashFreeRate)}`}
                      />
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <p class="muted small">Crash-free rate = 1 − crashed ÷ sessions started in the period.</p>
      </div>
    </Layout>,
  );
}
