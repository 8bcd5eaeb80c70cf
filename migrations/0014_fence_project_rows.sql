-- The fence of a moved project (migration 0013) on the rows a write can add without a ledger entry
-- of its own: pointer rows, attachments, feedback and facets of a redelivered message or a replayed
-- dead letter marked counted (the processor), and a merge's redirect (the console). Each insert of
-- a departed project's row aborts its transaction, as a ledger entry of its share does, so nothing
-- of the project lands behind the move's sweep. One primary-key probe per row.
CREATE TRIGGER `events_fence` BEFORE INSERT ON `events`
WHEN EXISTS (SELECT 1 FROM `departed_projects` WHERE project_id = NEW.project_id) BEGIN
	SELECT RAISE(ABORT, 'sluice: project moved off this metadata shard (departed_projects); retry to its new shard');
END;
--> statement-breakpoint
CREATE TRIGGER `attachments_fence` BEFORE INSERT ON `attachments`
WHEN EXISTS (SELECT 1 FROM `departed_projects` WHERE project_id = NEW.project_id) BEGIN
	SELECT RAISE(ABORT, 'sluice: project moved off this metadata shard (departed_projects); retry to its new shard');
END;
--> statement-breakpoint
CREATE TRIGGER `user_feedback_fence` BEFORE INSERT ON `user_feedback`
WHEN EXISTS (SELECT 1 FROM `departed_projects` WHERE project_id = NEW.project_id) BEGIN
	SELECT RAISE(ABORT, 'sluice: project moved off this metadata shard (departed_projects); retry to its new shard');
END;
--> statement-breakpoint
CREATE TRIGGER `group_facets_fence` BEFORE INSERT ON `group_facets`
WHEN EXISTS (SELECT 1 FROM `departed_projects` WHERE project_id = NEW.project_id) BEGIN
	SELECT RAISE(ABORT, 'sluice: project moved off this metadata shard (departed_projects); retry to its new shard');
END;
--> statement-breakpoint
CREATE TRIGGER `group_redirects_fence` BEFORE INSERT ON `group_redirects`
WHEN EXISTS (SELECT 1 FROM `departed_projects` WHERE project_id = NEW.project_id) BEGIN
	SELECT RAISE(ABORT, 'sluice: project moved off this metadata shard (departed_projects); retry to its new shard');
END;
