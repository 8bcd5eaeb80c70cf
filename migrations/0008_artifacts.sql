CREATE TABLE `artifact_bundles` (
	`project_id` integer NOT NULL,
	`id` text NOT NULL,
	`source` text NOT NULL,
	`release` text NOT NULL,
	`dist` text NOT NULL,
	`files` integer NOT NULL,
	`bytes` integer NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`project_id`, `id`)
);
--> statement-breakpoint
CREATE TABLE `artifact_files` (
	`project_id` integer NOT NULL,
	`bundle_id` text NOT NULL,
	`url` text NOT NULL,
	`kind` text NOT NULL,
	`debug_id` text,
	`release` text NOT NULL,
	`dist` text NOT NULL,
	`map_url` text,
	`blob_key` text NOT NULL,
	`size` integer NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`project_id`, `bundle_id`, `url`, `kind`)
);
--> statement-breakpoint
CREATE INDEX `artifact_files_debug_id` ON `artifact_files` (`project_id`,`debug_id`);--> statement-breakpoint
CREATE INDEX `artifact_files_url` ON `artifact_files` (`project_id`,`url`,`release`);