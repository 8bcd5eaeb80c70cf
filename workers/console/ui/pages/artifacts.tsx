// Source maps: a project's artifact bundles (sentry-cli) and Raygun uploads with their files,
// debug ids, releases and sizes, each deletable; the page also says how to upload them.
import type { Context } from "hono";
import { callApi } from "../api";
import { Layout } from "../components/layout";
import { absTime, fmtNum, relTime } from "../format";
import { readForm } from "../input";
import type { UiEnv } from "../session";
import type { Project } from "../types";

interface ArtifactFile {
  url: string;
  kind: string;
  debugId: string | null;
  size: number;
}
interface ArtifactBundle {
  id: string;
  source: string;
  release: string;
  dist: string;
  bytes: number;
  createdAt: string;
  files: ArtifactFile[];
}

export async function artifactsPage(c: Context<UiEnv>) {
  const id = c.req.param("id")!;
  const [project, { bundles }] = await Promise.all([
    callApi<Project>(c, `/api/v1/projects/${id}`),
    callApi<{ bundles: ArtifactBundle[] }>(c, `/api/v1/projects/${id}/artifacts`),
  ]);
  const origin = new URL(c.req.url).origin;
  return c.html(
    <Layout title={`${project.name} · Source maps`} csrf={c.var.csrf} project={project} tab="artifacts">
      <div class="card">
        <h2>Source maps</h2>
        {bundles.length === 0 ? (
          <div class="empty">
            No source maps yet. With sentry-cli:{" "}
            <code>{`SENTRY_URL=${origin} SENTRY_AUTH_TOKEN=<admin token> SENTRY_ORG=sluice SENTRY_PROJECT=${project.id} sentry-cli sourcemaps inject dist && sentry-cli sourcemaps upload dist`}</code>
          </div>
        ) : (
          <table class="artifacts">
            <thead>
              <tr>
                <th>Bundle</th>
                <th>From</th>
                <th>Release</th>
                <th>Files</th>
                <th class="num">Size</th>
                <th>Uploaded</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {bundles.map((b) => (
                <tr data-bundle={b.id}>
                  <td>
                    <code>{b.id.slice(0, 12)}</code>
                  </td>
                  <td>{b.source}</td>
                  <td>
                    {b.release ? (
                      `${b.release}${b.dist ? ` (${b.dist})` : ""}`
                    ) : (
                      <span class="muted">any</span>
                    )}
                  </td>
                  <td class="small">
                    {b.files.map((f) => (
                      <div>
                        {f.url} <span class="muted">{f.kind === "source_map" ? "map" : "minified"}</span>
                        {f.debugId ? <span class="muted"> · debug id {f.debugId}</span> : null}
                      </div>
                    ))}
                  </td>
                  <td class="num">{fmtNum(b.bytes)} B</td>
                  <td title={absTime(b.createdAt)}>{relTime(b.createdAt)}</td>
                  <td>
                    <form
                      method="post"
                      action={`/ui/projects/${project.id}/artifacts/${b.id}/delete`}
                      class="inline"
                    >
                      <input type="hidden" name="csrf" value={c.var.csrf} />
                      <button type="submit">Delete</button>
                    </form>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <p class="muted small">Older bundles are deleted with the project's retention.</p>
      </div>
    </Layout>,
  );
}

export async function artifactDeleteSubmit(c: Context<UiEnv>) {
  const { id, bundleId } = c.req.param() as { id: string; bundleId: string };
  await readForm(c);
  await callApi(c, `/api/v1/projects/${id}/artifacts/${bundleId}`, { method: "DELETE" });
  return c.redirect(`/ui/projects/${id}/artifacts`, 303);
}
