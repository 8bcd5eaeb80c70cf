// Copy-ready SDK set-up for a project: raygun4js, raygun4node, Sentry for JavaScript and Python,
// built from the project's ingest key, DSN and this console's public endpoint.
import type { FC } from "hono/jsx";
import type { Project } from "../types";

export function sdkSnippets(p: Project): { id: string; title: string; code: string }[] {
  const ep = new URL(p.raygun.endpoint);
  const ssl = ep.protocol === "https:";
  const port = ep.port ? Number(ep.port) : ssl ? 443 : 80;
  const q = JSON.stringify;
  return [
    {
      id: "raygun4js",
      title: "Browser — raygun4js",
      code: `rg4js('apiKey', ${q(p.key)});
rg4js('options', { apiEndpoint: ${q(p.raygun.endpoint)} });
rg4js('enableCrashReporting', true);
rg4js('enablePulse', true); // real-user monitoring`,
    },
    {
      id: "raygun4node",
      title: "Node.js — raygun",
      code: `const raygun = require("raygun");
const client = new raygun.Client().init({
  apiKey: ${q(p.key)},
  host: ${q(ep.hostname)},
  port: ${port},
  useSSL: ${ssl},
});`,
    },
    {
      id: "sentry-js",
      title: "JavaScript — @sentry/browser or @sentry/node",
      code: `Sentry.init({ dsn: ${q(p.dsn)} });`,
    },
    {
      id: "sentry-python",
      title: "Python — sentry-sdk",
      code: `import sentry_sdk
sentry_sdk.init(dsn=${q(p.dsn)})`,
    },
  ];
}

export const CopyBlock: FC<{ id: string; code: string }> = ({ id, code }) => (
  <div class="snip">
    <pre class="code" id={id}>
      {code}
    </pre>
    <button type="button" data-copy={id}>
      Copy
    </button>
  </div>
);

export const Snippets: FC<{ project: Project }> = ({ project }) => (
  <div class="grid snips">
    {sdkSnippets(project).map((s) => (
      <div>
        <h3>{s.title}</h3>
        <CopyBlock id={`snip-${project.id}-${s.id}`} code={s.code} />
      </div>
    ))}
  </div>
);
