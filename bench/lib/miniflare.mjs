// Miniflare (workerd) helpers: D1 migrations applied from migrations/*.sql, the bench project row,
// and a free port. Miniflare's own HTTP server is used, never `wrangler dev` (no proxy in front).
import { readdirSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { ROOT } from "./build.mjs";
import { BENCH_SETTINGS, INGEST_KEY, PROJECT_ID } from "./fakes.mjs";

export const COMPAT = { compatibilityDate: "2026-04-20", compatibilityFlags: ["nodejs_compat"] };

export async function applyMigrations(db) {
  const dir = join(ROOT, "migrations");
  for (const f of readdirSync(dir)
    .filter((x) => x.endsWith(".sql"))
    .sort()) {
    const sql = readFileSync(join(dir, f), "utf8");
    for (const part of sql.split("--> statement-breakpoint")) {
      const stmt = part
        .split("\n")
        .filter((l) => !l.trim().startsWith("--"))
        .join("\n")
        .trim();
      if (stmt) await db.prepare(stmt).run();
    }
  }
}

export async function seedProject(db) {
  const now = Date.now();
  await db
    .prepare(
      "INSERT INTO projects (id, name, ingest_key, settings, created_at, updated_at) VALUES (?1, 'bench', ?2, ?4, ?3, ?3)",
    )
    .bind(PROJECT_ID, INGEST_KEY, now, BENCH_SETTINGS)
    .run();
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** A worker that drains queues (acks everything), so local queues do not grow without bound. */
export const DRAIN_WORKER = `export default {
  async queue(batch) { batch.ackAll(); },
  async fetch() { return new Response("no such route (console stand-in)", { status: 404 }); },
};`;
