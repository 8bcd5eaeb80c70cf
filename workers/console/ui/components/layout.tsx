// Page shell: top bar (brand, projects, logout), optional project header with tabs and a search box,
// and the inline stylesheet. Every page renders through it.

import { raw } from "hono/html";
import type { Child, FC } from "hono/jsx";
import { CSS } from "../styles";
import type { Project } from "../types";
import { SOURCE_FRAME_CSS } from "./source-frame";

export type Tab = "issues" | "search" | "outcomes" | "rum" | "releases" | "alerts" | "artifacts" | "setup";

const TABS: [Tab, string, string][] = [
  ["issues", "Issues", ""],
  ["outcomes", "Outcomes", "/outcomes"],
  ["rum", "Pages (RUM)", "/rum"],
  ["releases", "Release health", "/releases"],
  ["alerts", "Alerts", "/alerts"],
  ["artifacts", "Source maps", "/artifacts"],
  ["setup", "Setup", "/setup"],
];

const Logo: FC = () => (
  <svg width="22" height="22" viewBox="0 0 24 24" aria-hidden="true">
    <path d="M3 5h18v3H3zM6 8v11h3V8M15 8v11h3V8" fill="#8b93ff" />
    <path d="M2 19c3-2 5 2 8 0s5 2 8 0 4 1 4 1v2H2z" fill="#5ec4ff" />
  </svg>
);

export const Layout: FC<{
  title: string;
  csrf?: string | undefined;
  project?: Project | undefined;
  tab?: Tab | undefined;
  q?: string | undefined;
  children?: Child;
}> = ({ title, csrf, project, tab, q, children }) => (
  <html lang="en">
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <title>{`${title} · Sluice`}</title>
      <style>{raw(CSS + SOURCE_FRAME_CSS)}</style>
      <script src="/ui/app.js" defer></script>
    </head>
    <body>
      <header class="top">
        <a class="brand" href="/ui/">
          <Logo /> Sluice
        </a>
        <a href="/ui/">Projects</a>
        <a href="/api/v1/openapi.json">API</a>
        <span class="spacer" />
        {csrf ? (
          <form method="post" action="/ui/logout">
            <input type="hidden" name="csrf" value={csrf} />
            <button type="submit">Log out</button>
          </form>
        ) : null}
      </header>
      <main>
        {project ? <ProjectHeader project={project} tab={tab} q={q} /> : null}
        {children}
      </main>
    </body>
  </html>
);

const ProjectHeader: FC<{ project: Project; tab?: Tab | undefined; q?: string | undefined }> = ({
  project,
  tab,
  q,
}) => {
  const base = `/ui/projects/${project.id}`;
  return (
    <>
      <div class="crumbs">
        <a href="/ui/">Projects</a> ›
      </div>
      <h1>{project.name}</h1>
      <nav class="tabs">
        {TABS.map(([id, label, path]) => (
          <a class={tab === id ? "on" : ""} href={`${base}${path}`}>
            {label}
          </a>
        ))}
        <form method="get" action={`${base}/search`} class="search-form">
          <input type="search" name="q" value={q ?? ""} placeholder="Search events: TypeError release:1.2" />
          <button type="submit">Search</button>
        </form>
      </nav>
    </>
  );
};
