// Projects: the list with ingest keys, DSNs and SDK snippets, a create form, and one project's
// Setup tab (everything needed to point an SDK at Sluice).
import type { Context } from "hono";
import type { FC } from "hono/jsx";
import { callApi } from "../api";
import { When } from "../components/badges";
import { Layout } from "../components/layout";
import { CopyBlock, Snippets } from "../components/snippets";
import { readForm } from "../input";
import type { UiEnv } from "../session";
import type { Project } from "../types";

const Credentials: FC<{ p: Project }> = ({ p }) => (
  <table class="kv">
    <tbody>
      <tr>
        <td>Ingest key (Raygun X-ApiKey)</td>
        <td>
          <CopyBlock id={`key-${p.id}`} code={p.key} />
        </td>
      </tr>
      <tr>
        <td>Sentry DSN</td>
        <td>
          <CopyBlock id={`dsn-${p.id}`} code={p.dsn} />
        </td>
      </tr>
      <tr>
        <td>Raygun API endpoint</td>
        <td class="mono">{p.raygun.endpoint}</td>
      </tr>
    </tbody>
  </table>
);

export async function projectsPage(c: Context<UiEnv>) {
  const { projects } = await callApi<{ projects: Project[] }>(c, "/api/v1/projects");
  const created = c.req.query("created");
  return c.html(
    <Layout title="Projects" csrf={c.var.csrf}>
      <h1>Projects</h1>
      <p class="sub">Each project has one ingest key that serves both the Raygun and the Sentry SDKs.</p>
      {created ? (
        <div class="ok">Project created. Point an SDK at it with one of the snippets below.</div>
      ) : null}
      <div class="card">
        <form method="post" action="/ui/projects" class="actions">
          <input type="hidden" name="csrf" value={c.var.csrf} />
          <input type="text" name="name" placeholder="New project name" required maxlength={100} />
          <button class="primary" type="submit">
            Create project
          </button>
        </form>
      </div>
      {projects.length === 0 ? <div class="card empty">No projects yet: create one above.</div> : null}
      {projects.map((p) => (
        <div class="card project" data-project-id={p.id}>
          <div class="actions" style="justify-content:space-between">
            <h2 style="margin:0">
              <a href={`/ui/projects/${p.id}`}>{p.name}</a> <span class="muted small">#{p.id}</span>
            </h2>
            <span class="muted small">
              created <When iso={p.createdAt} />
            </span>
          </div>
          <p class="actions">
            <a class="btn" href={`/ui/projects/${p.id}`}>
              Issues
            </a>
            <a class="btn" href={`/ui/projects/${p.id}/outcomes`}>
              Outcomes
            </a>
            <a class="btn" href={`/ui/projects/${p.id}/releases`}>
              Release health
            </a>
            <a class="btn" href={`/ui/projects/${p.id}/rum`}>
              Pages (RUM)
            </a>
          </p>
          <Credentials p={p} />
          <details open={created === p.id || projects.length === 1}>
            <summary>SDK set-up snippets</summary>
            <Snippets project={p} />
          </details>
        </div>
      ))}
    </Layout>,
  );
}

export async function createProjectSubmit(c: Context<UiEnv>) {
  const form = await readForm(c);
  const name = typeof form.name === "string" ? form.name.trim() : "";
  const p = await callApi<Project>(c, "/api/v1/projects", { method: "POST", body: { name } });
  return c.redirect(`/ui/?created=${encodeURIComponent(p.id)}`, 303);
}

export async function rotateKeySubmit(c: Context<UiEnv>) {
  const id = c.req.param("id");
  await callApi<Project>(c, `/api/v1/projects/${id}/keys/rotate`, { method: "POST" });
  return c.redirect(`/ui/projects/${id}/setup`, 303);
}

export async function setupPage(c: Context<UiEnv>) {
  const project = await callApi<Project>(c, `/api/v1/projects/${c.req.param("id")}`);
  return c.html(
    <Layout title={`${project.name} · Setup`} csrf={c.var.csrf} project={project} tab="setup">
      <div class="card">
        <h2>Credentials</h2>
        <Credentials p={project} />
        <form method="post" action={`/ui/projects/${project.id}/keys/rotate`}>
          <input type="hidden" name="csrf" value={c.var.csrf} />
          <button type="submit">Rotate ingest key</button>
          <span class="muted small">
            {" "}
            SDKs using the old key are refused once the edge's 30-second cache expires (also:{" "}
            <code>npm run sluice -- keys:rotate {project.id}</code>).
          </span>
        </form>
      </div>
      <div class="card">
        <h2>Send errors from your app</h2>
        <Snippets project={project} />
      </div>
    </Layout>,
  );
}
