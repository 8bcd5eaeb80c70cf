-- A dead letter's blob references go with it, in the statement that deletes it (by the index on
-- dead_letter_id): retention no longer looks for references without a dead letter, a probe of
-- every dead_letter_blobs row on every run.
CREATE TRIGGER `dead_letter_blobs_follow` AFTER DELETE ON `dead_letters` BEGIN
	DELETE FROM `dead_letter_blobs` WHERE `dead_letter_id` = OLD.`id`;
END;
--> statement-breakpoint
-- References left by deletes before this trigger, once.
DELETE FROM `dead_letter_blobs` WHERE NOT EXISTS (
	SELECT 1 FROM `dead_letters` d WHERE d.`id` = `dead_letter_blobs`.`dead_letter_id`
);
