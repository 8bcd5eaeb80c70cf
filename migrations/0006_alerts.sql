CREATE TABLE `alert_deliveries` (
	`rule_id` text NOT NULL,
	`id` text NOT NULL,
	`project_id` integer NOT NULL,
	`group_id` text,
	`trigger` text NOT NULL,
	`status` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`last_status_code` integer,
	`last_error` text,
	`latency_ms` integer,
	`attempts_log` text DEFAULT '[]' NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`rule_id`, `id`)
);
--> statement-breakpoint
CREATE TABLE `alert_rules` (
	`project_id` integer NOT NULL,
	`id` text NOT NULL,
	`name` text NOT NULL,
	`config` text NOT NULL,
	`target_type` text NOT NULL,
	`target_url` text NOT NULL,
	`secret` text NOT NULL,
	`cooldown_minutes` integer DEFAULT 30 NOT NULL,
	`enabled` integer DEFAULT 1 NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`project_id`, `id`)
);
--> statement-breakpoint
CREATE TABLE `alert_state` (
	`rule_id` text NOT NULL,
	`group_id` text NOT NULL,
	`trigger` text NOT NULL,
	`quiet_until` integer NOT NULL,
	PRIMARY KEY(`rule_id`, `group_id`, `trigger`)
);
--> statement-breakpoint
CREATE TABLE `group_minutes` (
	`project_id` integer NOT NULL,
	`group_id` text NOT NULL,
	`minute` integer NOT NULL,
	`count` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`project_id`, `group_id`, `minute`)
);
--> statement-breakpoint
ALTER TABLE `error_groups` ADD `resolved_in_release` text;--> statement-breakpoint
ALTER TABLE `error_groups` ADD `resolved_release_key` text;