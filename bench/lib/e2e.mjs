// Section 4: the whole local stack (`node scripts/start.mjs`: edge, processor, indexer, console in
// one wrangler dev with local D1/R2/queues, search on D1 FTS5). Sends M Raygun reports through
// /entries/bulk, then polls the API until every report is counted in its group and every sampled
// report (a unique token in its message) is found by /search. Latency per sampled report: from the
// 202 of its bulk request (accepted) to the first poll that sees it.
import { spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { ROOT, scratch } from "./build.mjs";
import { freePort } from "./miniflare.mjs";
import { raygunNodeReport, rng, zipf } from "./payloads.mjs";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
function pct(xs, p) {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

function token(rand) {
  // Letters g–z only: not a number, not hex, so grouping never strips it and search sees one token.
  return `zq${Array.from({ length: 10 }, () => "ghijklmnopqrstuvwxyz"[Math.floor(rand() * 20)]).join("")}`;
}

/** The stack of `node scripts/start.mjs` (also bench/alerts.mjs's, with its own state and env). */
export async function startStack({ stateName = "e2e-state", env = {} } = {}) {
  const port = await freePort();
  const state = scratch(stateName);
  mkdirSync(state, { recursive: true });
  const child = spawn(process.execPath, [join(ROOT, "scripts/start.mjs")], {
    cwd: ROOT,
    env: {
      ...process.env,
      SLUICE_LOG_LEVEL: "warn",
      PORT: String(port),
      SLUICE_STATE_DIR: state,
      ADMIN_TOKEN: "x",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let log = "";
  const ready = new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`stack not ready in 180 s:\n${log.slice(-2000)}`)), 180_000);
    child.stdout.on("data", (d) => {
      log += d;
      const m = /SLUICE_READY (\{.*\})/.exec(log);
      if (m) {
        clearTimeout(t);
        resolve(JSON.parse(m[1]));
      }
    });
    child.stderr.on("data", (d) => {
      log += d;
    });
    child.on("exit", (code) => reject(new Error(`start.mjs exited ${code}:\n${log.slice(-2000)}`)));
  });
  const stop = async () => {
    if (child.exitCode !== null) return;
    try {
      process.kill(-child.pid, "SIGTERM"); // our own child's process group (start.mjs + its wrangler)
    } catch {}
    for (let i = 0; i < 50 && child.exitCode === null; i++) await sleep(100);
    if (child.exitCode === null)
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {}
  };
  try {
    return { info: await ready, stop, logTail: () => log.slice(-20000) };
  } catch (err) {
    await stop();
    throw err;
  }
}

export async function benchE2E({
  events = 20000,
  bulk = 100,
  concurrency = 4,
  samples = 60,
  timeoutS = 180,
} = {}) {
  const stack = await startStack();
  const notes = [];
  try {
    const { url, adminToken, project } = stack.info;
    const auth = { authorization: `Bearer ${adminToken}` };
    const api = async (path) => {
      const r = await fetch(`${url}${path}`, { headers: auth });
      if (!r.ok) throw Object.assign(new Error(`${path}: ${r.status}`), { status: r.status });
      return r.json();
    };
    // Spike protection off for the bench project (a fresh project is admitted 50/min).
    const patch = await fetch(`${url}/api/v1/projects/${project.id}/settings`, {
      method: "PATCH",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({ spikeProtection: false }),
    });
    if (!patch.ok) notes.push(`could not turn spike protection off: ${patch.status} ${await patch.text()}`);
    let hasSearch = true;
    try {
      await api(`/api/v1/projects/${project.id}/search?q=zqprobe&limit=1`);
    } catch (err) {
      hasSearch = false;
      notes.push(
        `no search API (${err.message}): latency is accept→stored (group count), not accept→searchable`,
      );
    }

    // Pre-build every bulk body (not timed).
    const rand = rng(42);
    const group = zipf(50, 1.1, rand);
    const every = Math.max(1, Math.floor(events / samples));
    const sampled = []; // { token, bulk }
    const bodies = [];
    for (let b = 0; b * bulk < events; b++) {
      const reports = [];
      for (let i = b * bulk; i < Math.min(events, (b + 1) * bulk); i++) {
        const t = i % every === every - 1 ? token(rand) : null;
        if (t) sampled.push({ token: t, bulk: b });
        reports.push(raygunNodeReport({ bytes: 5120, g: group(), id: i, token: t, rand }));
      }
      bodies.push(JSON.stringify(reports));
    }
    const acceptedAt = new Array(bodies.length);
    const t0 = performance.now();
    let next = 0;
    let refused = 0;
    const statuses = {};
    let firstRefusal = null;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < bodies.length) {
          const b = next++;
          const r = await fetch(`${url}/entries/bulk`, {
            method: "POST",
            headers: { "content-type": "application/json", "x-apikey": project.key },
            body: bodies[b],
          });
          const text = await r.text();
          if (r.status !== 202) {
            refused++;
            statuses[r.status] = (statuses[r.status] ?? 0) + 1;
            if (!firstRefusal)
              firstRefusal = `${r.status} ${[...r.headers].map((h) => h.join(": ")).join("; ")} ${text.slice(0, 200)}`;
          }
          acceptedAt[b] = performance.now();
        }
      }),
    );
    const sendDone = performance.now();
    if (refused)
      notes.push(
        `${refused}/${bodies.length} bulk requests not answered 202 (${JSON.stringify(statuses)}; first: ${firstRefusal})`,
      );

    // Poll: group counts (stored) and the sampled tokens (searchable).
    const foundAt = new Map();
    let stored = 0;
    let storedAllAt = null;
    const deadline = performance.now() + timeoutS * 1000;
    while (performance.now() < deadline) {
      let cursor = null;
      let sum = 0;
      do {
        const page = await api(
          `/api/v1/projects/${project.id}/groups?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
        );
        for (const g of page.groups) sum += g.count;
        cursor = page.next;
      } while (cursor);
      stored = sum;
      if (stored >= events && storedAllAt === null) storedAllAt = performance.now();
      const pending = sampled.filter((s) => !foundAt.has(s.token));
      if (hasSearch) {
        for (let i = 0; i < pending.length; i += 8) {
          await Promise.all(
            pending.slice(i, i + 8).map(async (s) => {
              const r = await api(`/api/v1/projects/${project.id}/search?q=${s.token}&limit=1`);
              if (r.total > 0 || r.hits.length > 0) foundAt.set(s.token, performance.now());
            }),
          );
        }
      } else if (stored >= events) {
        for (const s of pending) foundAt.set(s.token, storedAllAt);
      }
      if (storedAllAt !== null && foundAt.size === sampled.length) break;
      await sleep(200);
    }
    const lat = sampled
      .filter((s) => foundAt.has(s.token))
      .map((s) => (foundAt.get(s.token) - acceptedAt[s.bulk]) / 1000);
    const doneAt = Math.max(storedAllAt ?? Number.NaN, ...[...foundAt.values()]);
    if (storedAllAt === null) {
      const errs = stack
        .logTail()
        .split("\n")
        .filter((l) => /error|fail|retry/i.test(l))
        .slice(-3)
        .map((l) => l.slice(0, 300));
      notes.push(
        `only ${stored}/${events} stored after ${timeoutS} s; stack log: ${errs.join(" | ") || "(no errors logged)"}`,
      );
    }
    if (foundAt.size < sampled.length)
      notes.push(`only ${foundAt.size}/${sampled.length} sampled reports searchable`);
    return {
      events,
      bulkSize: bulk,
      concurrency,
      reportBytes: 5120,
      acceptedPerSecond: Math.round(events / ((sendDone - t0) / 1000)),
      eventsPerSecond: storedAllAt === null ? null : Math.round(events / ((doneAt - t0) / 1000)),
      storedPerSecond: storedAllAt === null ? null : Math.round(events / ((storedAllAt - t0) / 1000)),
      stored,
      sampled: sampled.length,
      searchable: foundAt.size,
      latencyKind: hasSearch ? "accept→searchable" : "accept→stored",
      p50LatencyS: lat.length ? Math.round(pct(lat, 50) * 100) / 100 : null,
      p99LatencyS: lat.length ? Math.round(pct(lat, 99) * 100) / 100 : null,
      pollIntervalMs: 200,
      notes,
    };
  } finally {
    await stack.stop();
  }
}
