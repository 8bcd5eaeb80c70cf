-- Search fallback (shared/search/fts.ts): the D1 FTS5 backend used when no Elasticsearch is
-- configured. Hand-written: drizzle-kit cannot express FTS5 virtual tables or triggers, so these
-- tables are deliberately absent from shared/db/schema.ts (they are only touched through raw SQL).
--
-- search_docs holds the fields a search filters, sorts and returns (the PRIMARY KEY makes
-- re-indexing a no-op); search_fts is a contentless FTS5 index over one pre-tokenized column
-- (type + message + stack + tags, see shared/search/text.ts), keyed by search_docs.rowid.
-- contentless_delete=1 lets retention delete index rows without storing the text twice.
CREATE TABLE `search_docs` (
	`project_id` text NOT NULL,
	`event_id` text NOT NULL,
	`group_id` text,
	`fingerprint` text,
	`category` text NOT NULL,
	`occurred_at` integer NOT NULL,
	`received_at` integer NOT NULL,
	`type` text,
	`message` text NOT NULL,
	`level` text NOT NULL,
	`release` text,
	`environment` text,
	`user` text,
	`platform` text,
	`tags` text DEFAULT '{}' NOT NULL,
	PRIMARY KEY(`project_id`, `event_id`)
);
--> statement-breakpoint
-- Newest-first paging, time ranges and retention all walk (project_id, occurred_at, event_id).
CREATE INDEX `search_docs_project_time` ON `search_docs` (`project_id`, `occurred_at`, `event_id`);
--> statement-breakpoint
CREATE VIRTUAL TABLE `search_fts` USING fts5(
	`text`,
	content='',
	contentless_delete=1,
	tokenize='unicode61 remove_diacritics 2'
);
--> statement-breakpoint
-- Deleting a doc (retention) removes its index row in the same statement.
CREATE TRIGGER `search_docs_ad` AFTER DELETE ON `search_docs` BEGIN
	DELETE FROM `search_fts` WHERE rowid = old.rowid;
END;
