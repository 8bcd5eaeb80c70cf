CREATE TABLE `move_outbox` (
	`id` text PRIMARY KEY NOT NULL,
	`project_id` integer NOT NULL,
	`to_shard` integer NOT NULL,
	`table_name` text NOT NULL,
	`rows` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `move_outbox_project` ON `move_outbox` (`project_id`,`created_at`);