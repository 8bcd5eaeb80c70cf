ALTER TABLE `message_ledger` ADD `ids` text DEFAULT '[]' NOT NULL;--> statement-breakpoint
ALTER TABLE `projects` ADD `shard` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
-- Rows of the per-message ledger become one-message rows of the sliced ledger (ledger-sql.ts), so a
-- message applied before the upgrade and redelivered after it is still recognised.
UPDATE `message_ledger` SET `ids` = json_array(`id`), `id` = substr(`id`, 1, 10) || ':' || `id`;