-- Dashboard sessions and failed-login throttling (workers/console/sessions.ts, login-throttle.ts);
-- mirrors consoleSessions and consoleLoginFailures in shared/db/schema.ts. Both tables stay small:
-- expired sessions and past throttle windows are deleted as new ones are written.
CREATE TABLE `console_sessions` (
	`id_hash` text PRIMARY KEY NOT NULL,
	`token_fingerprint` text NOT NULL,
	`created_at` integer NOT NULL,
	`last_seen_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `console_login_failures` (
	`client` text PRIMARY KEY NOT NULL,
	`window_start` integer NOT NULL,
	`failures` integer NOT NULL
);
