-- Issue #14 workflow: merged groups (error_groups.merged_into, group_redirects), affected users
-- (error_groups.users, a HyperLogLog sketch), environment/release facets per group, user feedback.
-- New tables are WITHOUT ROWID by hand, like 0000_init, so an insert writes one b-tree less.
CREATE TABLE `group_facets` (
	`project_id` integer NOT NULL,
	`facet` text NOT NULL,
	`value` text NOT NULL,
	`group_id` text NOT NULL,
	`last_seen` integer NOT NULL,
	PRIMARY KEY(`project_id`, `facet`, `value`, `group_id`)
) WITHOUT ROWID;
--> statement-breakpoint
CREATE TABLE `group_redirects` (
	`project_id` integer NOT NULL,
	`from_group` text NOT NULL,
	`to_group` text NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`project_id`, `from_group`)
) WITHOUT ROWID;
--> statement-breakpoint
CREATE INDEX `group_redirects_to` ON `group_redirects` (`project_id`,`to_group`);--> statement-breakpoint
CREATE TABLE `user_feedback` (
	`project_id` integer NOT NULL,
	`id` text NOT NULL,
	`event_id` text,
	`group_id` text,
	`name` text,
	`email` text,
	`message` text NOT NULL,
	`url` text,
	`source` text NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`project_id`, `id`)
) WITHOUT ROWID;
--> statement-breakpoint
CREATE INDEX `user_feedback_group` ON `user_feedback` (`project_id`,`group_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `user_feedback_event` ON `user_feedback` (`project_id`,`event_id`);--> statement-breakpoint
CREATE INDEX `user_feedback_unlinked` ON `user_feedback` (`created_at`) WHERE "user_feedback"."group_id" IS NULL AND "user_feedback"."event_id" IS NOT NULL;--> statement-breakpoint
ALTER TABLE `error_groups` ADD `merged_into` text;--> statement-breakpoint
ALTER TABLE `error_groups` ADD `users` text;