ALTER TABLE `projects` ADD `move_run` text;--> statement-breakpoint
ALTER TABLE `projects` ADD `move_until` integer;