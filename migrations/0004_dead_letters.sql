-- Dead letters follow their project's retention (project_id; NULL when the body names no project),
-- and the R2 blobs a dead letter still needs (claim checks, attachments) are listed so that the
-- orphan sweep keeps them. sweep_cursors lets each retention run continue the R2 sweep where the
-- previous run stopped.
CREATE TABLE `dead_letter_blobs` (
	`blob_key` text PRIMARY KEY NOT NULL,
	`dead_letter_id` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `dead_letter_blobs_dead_letter` ON `dead_letter_blobs` (`dead_letter_id`);--> statement-breakpoint
CREATE TABLE `sweep_cursors` (
	`prefix` text PRIMARY KEY NOT NULL,
	`after` text NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
ALTER TABLE `dead_letters` ADD `project_id` integer;--> statement-breakpoint
CREATE INDEX `dead_letters_project_created` ON `dead_letters` (`project_id`,`created_at`);