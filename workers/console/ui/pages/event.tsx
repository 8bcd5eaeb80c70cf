// One event in full: the exception and stack trace, breadcrumbs, request, user, tags, release and
// environment, contexts and extra data, and the raw payload (shown and downloadable).
import type { Context } from "hono";
import type { FC } from "hono/jsx";
import type { Breadcrumb, CanonicalEvent } from "../../../../shared/event";
import { callApi } from "../api";
import { LevelBadge, When } from "../components/badges";
import { type Feedback, FeedbackList } from "../components/feedback-list";
import { KvTable, Tags } from "../components/kv";
import { Layout } from "../components/layout";
import { Exceptions } from "../components/stack-trace";
import { absTime, asText } from "../format";
import type { UiEnv } from "../session";
import type { EventDetail, Project } from "../types";

const Breadcrumbs: FC<{ crumbs: Breadcrumb[] }> = ({ crumbs }) =>
  crumbs.length === 0 ? (
    <p class="muted small">No breadcrumbs.</p>
  ) : (
    <table>
      <tbody>
        {crumbs.slice(-100).map((b) => (
          <tr>
            <td class="nowrap small muted">{b.timestamp ? absTime(b.timestamp).slice(11) : ""}</td>
            <td class="nowrap">{b.category ?? b.type ?? ""}</td>
            <td style="word-break:break-word">
              {b.message ?? ""}
              {b.data && Object.keys(b.data).length > 0 ? (
                <div class="muted small mono">{asText(b.data)}</div>
              ) : null}
            </td>
            <td>{b.level ? <LevelBadge level={b.level} /> : null}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );

const RequestInfo: FC<{ ev: CanonicalEvent }> = ({ ev }) => {
  const r = ev.request;
  if (!r) return <p class="muted small">No request.</p>;
  return (
    <>
      <p class="mono" style="word-break:break-all">
        {r.method ?? ""} {r.url ?? ""}
      </p>
      <KvTable data={{ query: r.query, data: r.data, cookies: r.cookies }} empty="" />
      {r.headers ? (
        <>
          <h3>Headers</h3>
          <KvTable data={r.headers} />
        </>
      ) : null}
    </>
  );
};

export async function eventPage(c: Context<UiEnv>) {
  const { id, eventId } = c.req.param() as { id: string; eventId: string };
  const [project, detail, feedback] = await Promise.all([
    callApi<Project>(c, `/api/v1/projects/${id}`),
    callApi<EventDetail>(c, `/api/v1/projects/${id}/events/${eventId}`),
    callApi<{ feedback: Feedback[] }>(c, `/api/v1/projects/${id}/events/${eventId}/feedback`),
  ]);
  const ev = detail.event;
  const s = detail.summary;
  const rawUrl = `/api/v1/projects/${id}/events/${eventId}/raw`;
  return c.html(
    <Layout title={s.message ?? eventId} csrf={c.var.csrf} project={project} tab="issues">
      <div class="card">
        <div class="crumbs">
          {s.groupId ? <a href={`/ui/projects/${id}/groups/${s.groupId}`}>← Issue</a> : null} · event{" "}
          <span class="mono">{eventId}</span>
        </div>
        <h1>
          {s.type ?? "Message"} <LevelBadge level={s.level} />
        </h1>
        <div class="event-message" style="font-size:15px;word-break:break-word">
          {ev?.message ?? s.message ?? ""}
        </div>
        <div class="stats" style="margin-top:12px">
          <div class="stat">
            <b>
              <When iso={s.occurredAt} />
            </b>
            <span>{absTime(s.occurredAt)}</span>
          </div>
          <div class="stat">
            <b class="mono">{s.release ?? "—"}</b>
            <span>release</span>
          </div>
          <div class="stat">
            <b>{s.environment ?? "—"}</b>
            <span>environment</span>
          </div>
          <div class="stat">
            <b>{ev?.platform ?? "—"}</b>
            <span>platform · {ev ? `${ev.protocol} protocol` : ""}</span>
          </div>
        </div>
      </div>
      {feedback.feedback.length > 0 ? <FeedbackList projectId={id} feedback={feedback.feedback} /> : null}
      {ev ? (
        <>
          <div class="card">
            <h2>Exception</h2>
            <Exceptions exceptions={ev.exceptions} fallbackMessage={ev.message} />
          </div>
          <div class="card">
            <h2>Breadcrumbs</h2>
            <Breadcrumbs crumbs={ev.breadcrumbs ?? []} />
          </div>
          <div class="grid">
            <div class="card">
              <h2>Tags</h2>
              <Tags tags={ev.tags} />
              <h2 style="margin-top:16px">User</h2>
              <KvTable data={ev.user} empty="No user." />
            </div>
            <div class="card">
              <h2>Request</h2>
              <RequestInfo ev={ev} />
            </div>
          </div>
          <div class="card">
            <h2>Contexts</h2>
            <KvTable
              data={{
                ...ev.contexts,
                server: ev.serverName,
                transaction: ev.transaction,
                sdk: ev.sdk?.name ? `${ev.sdk.name} ${ev.sdk.version ?? ""}` : null,
                "client ip": ev.client?.ip,
                "client user agent": ev.client?.userAgent,
                "client country": ev.client?.country,
              }}
            />
            {Object.keys(ev.extra ?? {}).length > 0 ? (
              <>
                <h3>Extra</h3>
                <KvTable data={ev.extra} />
              </>
            ) : null}
          </div>
        </>
      ) : (
        <div class="card muted">This event has no normalized form; see the raw payload.</div>
      )}
      <div class="card">
        <div class="actions" style="justify-content:space-between">
          <h2 style="margin:0">Raw payload</h2>
          <a class="btn" href={rawUrl} download>
            Download raw payload
          </a>
        </div>
        {detail.attachments.length > 0 ? (
          <p class="small">
            Attachments: {detail.attachments.map((a) => `${a.name} (${a.size} bytes)`).join(", ")}
          </p>
        ) : null}
        <details>
          <summary>Show the payload as received (after PII scrubbing)</summary>
          <pre class="code">
            {typeof detail.raw === "string" ? detail.raw : JSON.stringify(detail.raw, null, 2)}
          </pre>
        </details>
      </div>
    </Layout>,
  );
}
