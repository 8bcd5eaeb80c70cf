// Alerts tab: a project's alert rules (list, create, delete, send a test alert) and one rule's
// delivery log. Everything goes through the /api/v1 alert-rules routes, so the dashboard refuses
// exactly what the API refuses (a private target, a frequency rule without a threshold, ...).
import type { Context } from "hono";
import type { FC } from "hono/jsx";
import { callApi } from "../api";
import { When } from "../components/badges";
import { Layout } from "../components/layout";
import { readForm } from "../input";
import type { UiEnv } from "../session";
import type { Project } from "../types";

interface Rule {
  id: string;
  name: string;
  triggers: string[];
  target: { type: string; url: string };
  threshold: { count: number; windowMinutes: number } | null;
  environment: string | null;
  level: string | null;
  cooldownMinutes: number;
  enabled: boolean;
  secret?: string;
}

interface Delivery {
  id: string;
  trigger: string;
  groupId: string | null;
  status: string;
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  latencyMs: number | null;
  createdAt: string;
  updatedAt: string;
}

const TRIGGER_LABELS: [string, string][] = [
  ["new_issue", "New issue"],
  ["regression", "Regression"],
  ["spike", "Spike"],
  ["frequency", "Frequency"],
];

const Hidden: FC<{ csrf: string }> = ({ csrf }) => <input type="hidden" name="csrf" value={csrf} />;

const RuleForm: FC<{ projectId: string; csrf: string }> = ({ projectId, csrf }) => (
  <form method="post" action={`/ui/projects/${projectId}/alerts`} class="rule-form">
    <Hidden csrf={csrf} />
    <p class="actions">
      <input type="text" name="name" placeholder="Rule name" required maxlength={100} />
      <select name="targetType">
        <option value="webhook">Webhook (signed JSON)</option>
        <option value="slack">Slack / Mattermost / Discord</option>
      </select>
      <input type="url" name="url" placeholder="https://hooks.example.com/sluice" required size={40} />
    </p>
    <p class="actions">
      {TRIGGER_LABELS.map(([value, label]) => (
        <label>
          <input type="checkbox" name="triggers[]" value={value} checked={value === "new_issue"} /> {label}
        </label>
      ))}
    </p>
    <p class="actions small">
      <label>
        Frequency: more than <input type="number" name="count" min={1} style="width:80px" /> events in{" "}
        <input type="number" name="windowMinutes" min={1} max={1440} style="width:70px" /> minutes
      </label>
      <label>
        Cooldown <input type="number" name="cooldownMinutes" min={0} value="30" style="width:70px" /> minutes
      </label>
    </p>
    <button class="primary" type="submit">
      Create rule
    </button>
  </form>
);

const RuleRow: FC<{ projectId: string; rule: Rule; csrf: string }> = ({ projectId, rule, csrf }) => {
  const base = `/ui/projects/${projectId}/alerts/${rule.id}`;
  return (
    <tr data-rule-id={rule.id}>
      <td>
        <a href={base} class="issue-title">
          {rule.name}
        </a>
        {rule.enabled ? null : <span class="muted small"> (disabled)</span>}
      </td>
      <td>{rule.triggers.join(", ")}</td>
      <td class="mono small">
        {rule.target.type}: {rule.target.url}
      </td>
      <td class="nowrap">{rule.cooldownMinutes} min</td>
      <td class="actions">
        <form method="post" action={`${base}/test`} class="inline">
          <Hidden csrf={csrf} />
          <button type="submit" data-action="test">
            Send test alert
          </button>
        </form>
        <form method="post" action={`${base}/delete`} class="inline">
          <Hidden csrf={csrf} />
          <button type="submit" data-action="delete">
            Delete
          </button>
        </form>
      </td>
    </tr>
  );
};

export async function alertsPage(c: Context<UiEnv>) {
  const id = c.req.param("id")!;
  const project = await callApi<Project>(c, `/api/v1/projects/${id}`);
  const { rules } = await callApi<{ rules: Rule[] }>(c, `/api/v1/projects/${id}/alert-rules`);
  return c.html(
    <Layout title={`${project.name} · Alerts`} csrf={c.var.csrf} project={project} tab="alerts">
      <div class="card">
        <h2>Alert rules</h2>
        {rules.length === 0 ? (
          <p class="empty">No rules yet: nobody is told when something breaks.</p>
        ) : (
          <table class="rules">
            <thead>
              <tr>
                <th>Name</th>
                <th>Triggers</th>
                <th>Target</th>
                <th>Cooldown</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {rules.map((r) => (
                <RuleRow projectId={id} rule={r} csrf={c.var.csrf} />
              ))}
            </tbody>
          </table>
        )}
      </div>
      <div class="card">
        <h2>New rule</h2>
        <RuleForm projectId={id} csrf={c.var.csrf} />
      </div>
    </Layout>,
  );
}

const num = (v: unknown) => (typeof v === "string" && v.trim() !== "" ? Number(v) : undefined);

export async function createRuleSubmit(c: Context<UiEnv>) {
  const id = c.req.param("id")!;
  const form = await readForm(c);
  const triggers = ([] as unknown[]).concat(form["triggers[]"] ?? []).filter((t) => typeof t === "string");
  const count = num(form.count);
  const windowMinutes = num(form.windowMinutes);
  const body: Record<string, unknown> = {
    name: typeof form.name === "string" ? form.name.trim() : "",
    triggers,
    target: { type: form.targetType, url: typeof form.url === "string" ? form.url.trim() : "" },
  };
  if (count !== undefined || windowMinutes !== undefined) body.threshold = { count, windowMinutes };
  const cooldown = num(form.cooldownMinutes);
  if (cooldown !== undefined) body.cooldownMinutes = cooldown;
  const rule = await callApi<Rule>(c, `/api/v1/projects/${id}/alert-rules`, { method: "POST", body });
  return c.redirect(`/ui/projects/${id}/alerts/${rule.id}?created=1`, 303);
}

export async function deleteRuleSubmit(c: Context<UiEnv>) {
  const { id, ruleId } = c.req.param() as { id: string; ruleId: string };
  await callApi(c, `/api/v1/projects/${id}/alert-rules/${ruleId}`, { method: "DELETE" });
  return c.redirect(`/ui/projects/${id}/alerts`, 303);
}

export async function testRuleSubmit(c: Context<UiEnv>) {
  const { id, ruleId } = c.req.param() as { id: string; ruleId: string };
  await callApi(c, `/api/v1/projects/${id}/alert-rules/${ruleId}/test`, { method: "POST" });
  return c.redirect(`/ui/projects/${id}/alerts/${ruleId}?sent=1`, 303);
}

export async function ruleDeliveriesPage(c: Context<UiEnv>) {
  const { id, ruleId } = c.req.param() as { id: string; ruleId: string };
  const project = await callApi<Project>(c, `/api/v1/projects/${id}`);
  const rule = await callApi<Rule>(c, `/api/v1/projects/${id}/alert-rules/${ruleId}`);
  const { deliveries } = await callApi<{ deliveries: Delivery[] }>(
    c,
    `/api/v1/projects/${id}/alert-rules/${ruleId}/deliveries`,
  );
  return c.html(
    <Layout title={`${rule.name} · Deliveries`} csrf={c.var.csrf} project={project} tab="alerts">
      {c.req.query("created") ? <div class="ok">Rule created.</div> : null}
      {c.req.query("sent") ? <div class="ok">Test alert queued; reload to see its delivery.</div> : null}
      <div class="card">
        <h2>{rule.name}: deliveries</h2>
        <p class="sub mono small">
          {rule.target.type}: {rule.target.url} · triggers: {rule.triggers.join(", ")}
        </p>
        <details open={!!c.req.query("created")}>
          <summary>Signing secret (X-Sluice-Signature: sha256=HMAC-SHA256 of the body)</summary>
          <code class="mono" data-secret>
            {rule.secret}
          </code>
        </details>
        <form method="post" action={`/ui/projects/${id}/alerts/${ruleId}/test`} class="inline">
          <Hidden csrf={c.var.csrf} />
          <button type="submit" data-action="test">
            Send test alert
          </button>
        </form>
        {deliveries.length === 0 ? (
          <p class="empty">Nothing delivered yet.</p>
        ) : (
          <table class="deliveries">
            <thead>
              <tr>
                <th>When</th>
                <th>Trigger</th>
                <th>Status</th>
                <th>Attempts</th>
                <th>Last answer</th>
                <th>Latency</th>
              </tr>
            </thead>
            <tbody>
              {deliveries.map((d) => (
                <tr data-delivery-id={d.id} data-status={d.status}>
                  <td class="nowrap">
                    <When iso={d.createdAt} />
                  </td>
                  <td>
                    {d.groupId ? (
                      <a href={`/ui/projects/${id}/groups/${d.groupId}`}>{d.trigger}</a>
                    ) : (
                      d.trigger
                    )}
                  </td>
                  <td>{d.status}</td>
                  <td>{d.attempts}</td>
                  <td class="small">
                    {d.lastError ?? (d.lastStatusCode ? `HTTP ${d.lastStatusCode}` : "—")}
                  </td>
                  <td class="nowrap">{d.latencyMs == null ? "—" : `${d.latencyMs} ms`}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <p>
          <a href={`/ui/projects/${id}/alerts`}>← Alert rules</a>
        </p>
      </div>
    </Layout>,
  );
}
