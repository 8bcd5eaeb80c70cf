// Bench section "alerts" (`npm run bench -- --only=alerts`): new-issue alert latency on the whole
// local stack (`node scripts/start.mjs`). The real @sentry/node SDK raises a new error (its own
// group) at a time; the figure per sample runs from the SDK handing the event to its transport
// (beforeSend, just before the POST) to the webhook request arriving at a local receiver.
// Samples are sequential, so each measures an idle pipeline's path, not a queue backlog.
import { createServer } from "node:http";
import { startStack } from "./lib/e2e.mjs";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? null : s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

function receiver() {
  const arrived = new Map();
  const server = createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const at = performance.now();
      try {
        const msg = JSON.parse(Buffer.concat(chunks).toString("utf8"))?.group?.message;
        if (msg && !arrived.has(msg)) arrived.set(msg, at);
      } catch {}
      res.writeHead(200).end();
    });
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () =>
      resolve({
        url: `http://127.0.0.1:${server.address().port}/hook`,
        arrived,
        close: () => server.close(),
      }),
    ),
  );
}

export async function benchAlerts({ samples = 30, timeoutMs = 30_000 } = {}) {
  const Sentry = await import("@sentry/node");
  const hook = await receiver();
  const stack = await startStack({ stateName: "alerts-state" });
  try {
    const { url, adminToken } = stack.info;
    const headers = { authorization: `Bearer ${adminToken}`, "content-type": "application/json" };
    const post = async (path, body) => {
      const r = await fetch(`${url}${path}`, { method: "POST", headers, body: JSON.stringify(body) });
      if (!r.ok) throw new Error(`${path}: ${r.status} ${await r.text()}`);
      return r.json();
    };
    const project = await post("/api/v1/projects", { name: "alerts-bench" });
    await post(`/api/v1/projects/${project.id}/alert-rules`, {
      name: "bench",
      triggers: ["new_issue"],
      target: { type: "webhook", url: hook.url },
    });
    const sentAt = new Map();
    Sentry.init({
      dsn: project.dsn,
      beforeSend(event) {
        const msg = event.exception?.values?.at(-1)?.value;
        if (msg) sentAt.set(msg, performance.now());
        return event;
      },
    });
    const latencies = [];
    let missed = 0;
    for (let i = 0; i < samples; i++) {
      const message = `bench alert ${i} ${Date.now().toString(36)}`;
      // A fingerprint of its own per sample (Sentry's client fingerprint): each error is a new group.
      Sentry.captureException(new Error(message), { fingerprint: [message] });
      const deadline = Date.now() + timeoutMs;
      while (!hook.arrived.has(message) && Date.now() < deadline) await sleep(5);
      if (hook.arrived.has(message) && sentAt.has(message))
        latencies.push(hook.arrived.get(message) - sentAt.get(message));
      else missed++;
      await sleep(100);
    }
    await Sentry.close(2000);
    const round = (x) => (x == null ? null : Math.round(x));
    return {
      samples,
      delivered: latencies.length,
      missed,
      newIssueP50Ms: round(pct(latencies, 50)),
      newIssueP95Ms: round(pct(latencies, 95)),
      newIssueMaxMs: round(Math.max(...latencies)),
      note: "SDK beforeSend (just before its POST) → webhook request received; npm start stack, sequential samples",
    };
  } finally {
    await stack.stop();
    hook.close();
  }
}
