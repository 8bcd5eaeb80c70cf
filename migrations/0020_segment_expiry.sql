-- Retention reads due segment rows by `expires_at` (created_at + the shortest retention among the
-- projects holding a share) instead of walking every row once per retention; rows written before
-- it get 0, due at once, and the retention cron sets it. `shards` names the metadata shards holding
-- a share of the same R2 object, so that deleting it asks only them.
ALTER TABLE `segments` ADD `expires_at` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `segments` ADD `shards` text;--> statement-breakpoint
CREATE INDEX `segments_expires_at` ON `segments` (`expires_at`,`key`);