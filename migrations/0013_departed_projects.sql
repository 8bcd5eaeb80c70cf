CREATE TABLE `departed_projects` (
	`project_id` integer PRIMARY KEY NOT NULL,
	`to_shard` integer NOT NULL,
	`departed_at` integer NOT NULL
);
--> statement-breakpoint
-- The fence of a moved project (shared/db/schema.ts departedProjects): a ledger row listing a share
-- of a project that left this shard (`…@<project>"` in its ids) aborts its whole transaction, so a
-- batch that read the old pointer writes nothing here and is retried towards the new shard.
CREATE TRIGGER `message_ledger_fence` BEFORE INSERT ON `message_ledger`
WHEN NEW.ids IS NOT NULL AND EXISTS (
	SELECT 1 FROM `departed_projects` d WHERE instr(NEW.ids, '@' || d.project_id || '"') > 0
) BEGIN
	SELECT RAISE(ABORT, 'sluice: project moved off this metadata shard (departed_projects); retry to its new shard');
END;
