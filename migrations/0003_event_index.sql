-- Issue #11 "Volume": the search backend is the per-event index, D1 keeps only aggregates.
-- Hand-written (drizzle-kit cannot express WITHOUT ROWID); shared/db/schema.ts mirrors it.
--
-- 1. The ledger of applied queue messages: one row per ingest message, written in the same D1
--    transaction as the aggregates it guards, so a redelivered message never counts twice. Message
--    ids start with their send time in hex (workers/edge/enqueue.ts), so the primary key is also
--    the time order retention prunes by, and WITHOUT ROWID makes an insert one b-tree row.
CREATE TABLE `message_ledger` (
	`id` text PRIMARY KEY NOT NULL,
	`batch_id` text NOT NULL,
	`applied_at` integer NOT NULL
) WITHOUT ROWID;
--> statement-breakpoint
INSERT INTO `message_ledger` (`id`, `batch_id`, `applied_at`)
SELECT `id`, `batch_id`, `applied_at` FROM `applied_messages`;
--> statement-breakpoint
DROP TABLE `applied_messages`;
--> statement-breakpoint
-- 2. Occurrences per group, hour, release and environment: the histogram, the sparklines and the
--    release breakdown, written once per key per batch instead of read from per-event rows.
CREATE TABLE `group_hours` (
	`project_id` integer NOT NULL,
	`group_id` text NOT NULL,
	`hour` integer NOT NULL,
	`release` text DEFAULT '' NOT NULL,
	`environment` text DEFAULT '' NOT NULL,
	`count` integer DEFAULT 0 NOT NULL,
	`last_seen` integer NOT NULL,
	PRIMARY KEY(`project_id`, `group_id`, `hour`, `release`, `environment`)
) WITHOUT ROWID;
--> statement-breakpoint
-- Backfill from the per-event rows that error events leave behind from before this migration.
INSERT INTO `group_hours` (`project_id`, `group_id`, `hour`, `release`, `environment`, `count`, `last_seen`)
SELECT `project_id`, `group_id`, (`occurred_at` / 3600000) * 3600000, coalesce(`release`, ''),
	coalesce(`environment`, ''), count(*), max(`occurred_at`)
FROM `events` WHERE `group_id` IS NOT NULL
GROUP BY 1, 2, 3, 4, 5;
--> statement-breakpoint
-- 3. The embedded (FTS5) event index carries the R2 segment pointer, like the Elasticsearch
--    documents, and lists a group's events newest first without a scan.
ALTER TABLE `search_docs` ADD `segment_key` text;
--> statement-breakpoint
ALTER TABLE `search_docs` ADD `segment_offset` integer;
--> statement-breakpoint
ALTER TABLE `search_docs` ADD `segment_length` integer;
--> statement-breakpoint
UPDATE `search_docs` SET `segment_key` = e.`segment_key`, `segment_offset` = e.`segment_offset`,
	`segment_length` = e.`segment_length`
FROM `events` AS e
WHERE e.`project_id` = CAST(`search_docs`.`project_id` AS integer) AND e.`event_id` = `search_docs`.`event_id`;
--> statement-breakpoint
CREATE INDEX `search_docs_group_time` ON `search_docs` (`project_id`, `group_id`, `occurred_at`, `event_id`);
