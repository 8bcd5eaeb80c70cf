-- A project's retention lowered (settings.retentionDays, 90 when unset): a marker for the retention
-- cron (workers/processor/retention.ts), which restarts that retention's segment lanes from the
-- oldest segment, since their cursors may have passed segments only the longer retention kept. The
-- marker replaces a JSON row of every project's retention that each run rewrote on every shard
-- (past ~150,000 projects, more than a D1 row holds).
CREATE TRIGGER `projects_retention_lowered` AFTER UPDATE OF `settings` ON `projects`
WHEN json_valid(NEW.`settings`) AND json_valid(OLD.`settings`)
	AND coalesce(json_extract(NEW.`settings`, '$.retentionDays'), 90) < coalesce(json_extract(OLD.`settings`, '$.retentionDays'), 90)
BEGIN
	INSERT OR REPLACE INTO `sweep_cursors` (`prefix`, `after`, `updated_at`)
	VALUES ('retention:restart:' || coalesce(json_extract(NEW.`settings`, '$.retentionDays'), 90), CAST(NEW.`updated_at` AS TEXT), NEW.`updated_at`);
END;
