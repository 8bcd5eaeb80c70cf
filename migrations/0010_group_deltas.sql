CREATE TABLE `group_deltas` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`batch_id` text NOT NULL,
	`created_at` integer NOT NULL,
	`groups` text NOT NULL,
	`hours` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `group_fold` (
	`id` integer PRIMARY KEY NOT NULL,
	`token` text NOT NULL,
	`through` integer NOT NULL
);
