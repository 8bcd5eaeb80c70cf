// Applies the D1 migrations to each test file's isolated databases (the control database and every
// metadata shard get the same schema) before its tests run.
import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { shardDbs } from "../shared/db/shards";

await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
for (const db of shardDbs(env)) if (db !== env.DB) await applyD1Migrations(db, env.TEST_MIGRATIONS);
