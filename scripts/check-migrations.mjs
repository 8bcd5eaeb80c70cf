// `npm run db:check`: the D1 schema (shared/db/schema.ts) and migrations/ agree. Runs
// `drizzle-kit generate` against a scratch copy of migrations/ and fails if it would write
// anything, and fails if a .sql file is missing from drizzle's journal (a hand-written migration
// must be created with `drizzle-kit generate --custom`, or the next generate reuses its number).

import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const migrations = join(root, "migrations");
const problems = [];

const journal = JSON.parse(readFileSync(join(migrations, "meta", "_journal.json"), "utf8"));
const tags = new Set(journal.entries.map((e) => e.tag));
for (const f of readdirSync(migrations).filter((f) => f.endsWith(".sql"))) {
  if (!tags.has(f.replace(/\.sql$/, ""))) problems.push(`${f} is not in migrations/meta/_journal.json`);
}

const scratch = mkdtempSync(join(tmpdir(), "sluice-migrations-"));
try {
  const out = join(scratch, "migrations");
  cpSync(migrations, out, { recursive: true });
  const config = join(scratch, "drizzle.config.mjs");
  writeFileSync(
    config,
    `export default ${JSON.stringify({ dialect: "sqlite", schema: join(root, "shared/db/schema.ts"), out })};\n`,
  );
  const before = new Set(readdirSync(out, { recursive: true }));
  const r = spawnSync(join(root, "node_modules", ".bin", "drizzle-kit"), ["generate", "--config", config], {
    cwd: root,
    encoding: "utf8",
  });
  if (r.status !== 0) problems.push(`drizzle-kit generate failed:\n${r.stderr || r.stdout}`);
  const created = readdirSync(out, { recursive: true }).filter((f) => !before.has(f));
  if (created.length > 0) {
    problems.push(
      `shared/db/schema.ts and migrations/ disagree: npm run db:generate would write ${created.join(", ")}`,
    );
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}

if (problems.length > 0) {
  for (const p of problems) console.error(`✗ ${p}`);
  process.exit(1);
}
console.log("schema and migrations agree; every migration is in drizzle's journal");
