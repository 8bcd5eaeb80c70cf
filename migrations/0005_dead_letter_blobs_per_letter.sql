-- dead_letter_blobs: one row per (blob, dead letter) instead of one per blob, so that two dead
-- letters of the same item each keep its claim check (a newer one no longer takes the reference
-- over, leaving the older one's blob to the orphan sweep once the newer is gone). Rows are copied.
PRAGMA foreign_keys=OFF;--> statement-breakpoint
CREATE TABLE `__new_dead_letter_blobs` (
	`blob_key` text NOT NULL,
	`dead_letter_id` text NOT NULL,
	PRIMARY KEY(`blob_key`, `dead_letter_id`)
);
--> statement-breakpoint
INSERT INTO `__new_dead_letter_blobs`("blob_key", "dead_letter_id") SELECT "blob_key", "dead_letter_id" FROM `dead_letter_blobs`;--> statement-breakpoint
DROP TABLE `dead_letter_blobs`;--> statement-breakpoint
ALTER TABLE `__new_dead_letter_blobs` RENAME TO `dead_letter_blobs`;--> statement-breakpoint
PRAGMA foreign_keys=ON;--> statement-breakpoint
CREATE INDEX `dead_letter_blobs_dead_letter` ON `dead_letter_blobs` (`dead_letter_id`);