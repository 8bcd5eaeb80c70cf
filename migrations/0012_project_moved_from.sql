ALTER TABLE `projects` ADD `moved_from` integer;--> statement-breakpoint
ALTER TABLE `projects` ADD `moved_at` integer;