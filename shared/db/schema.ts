// D1 schema (drizzle). Every database (the control database DB and each metadata shard
// DB_SHARD_<n>) gets the same migrations; shared/db/shards.ts says which tables live where.
// D1 bills every row written, index entries included, so tables are WITHOUT
// ROWID with a composite primary key and no secondary index. Events with a canonical event (errors,
// transactions) have no row here: the search backend is their index (issue #11). Aggregates
// (groups, group hours, RUM pages, sessions, outcomes) are keyed so that a batch upserts each key
// once, guarded by the message ledger in the same transaction.

import { sql } from "drizzle-orm";
import { index, integer, primaryKey, real, sqliteTable, text } from "drizzle-orm/sqlite-core";

export const projects = sqliteTable("projects", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  name: text("name").notNull(),
  /** 32 lowercase hex characters; serves both Raygun (X-ApiKey) and Sentry (DSN public key). */
  ingestKey: text("ingest_key").notNull().unique(),
  /** JSON of `ProjectSettings` (shared/settings.ts). */
  settings: text("settings").notNull().default("{}"),
  /** The metadata shard (binding DB_SHARD_<n>, shared/db/shards.ts) holding this project's groups and aggregates. */
  shard: integer("shard").notNull().default(0),
  /**
   * The shard the project was last moved off, and when (workers/console/move-project.ts). Kept for
   * the processor of the release before `left_shards`, which asks this one shard's ledger too.
   */
  movedFrom: integer("moved_from"),
  movedAt: integer("moved_at"),
  /**
   * Every shard the project left within the queue's retention, as JSON `{"<shard>": <left at, ms>}`
   * (a project moved twice in 4 days has two): the processor asks each of their ledgers too, so a
   * move copies no ledger. Null for a project never moved since this column came (moved_from then).
   */
  leftShards: text("left_shards"),
  /**
   * The run of `projects:move` that holds the project (workers/console/move-project.ts) and until
   * when: two overlapping runs towards different shards could each fence the shard the other
   * pointed the project to, so a second one is refused while the first holds it.
   */
  moveRun: text("move_run"),
  moveUntil: integer("move_until"),
  createdAt: integer("created_at").notNull(),
  updatedAt: integer("updated_at").notNull(),
});

/** Error groups (issues). `id` is derived from project + fingerprint, so no look-up is needed to write. */
export const errorGroups = sqliteTable(
  "error_groups",
  {
    projectId: integer("project_id").notNull(),
    id: text("id").notNull(),
    fingerprint: text("fingerprint").notNull(),
    groupingVersion: integer("grouping_version").notNull(),
    type: text("type"),
    message: text("message").notNull(),
    culprit: text("culprit"),
    level: text("level").notNull(),
    platform: text("platform"),
    /** active | resolved | ignored */
    status: text("status").notNull().default("active"),
    count: integer("count").notNull().default(0),
    firstSeen: integer("first_seen").notNull(),
    lastSeen: integer("last_seen").notNull(),
    lastEventId: text("last_event_id"),
    lastRelease: text("last_release"),
    /** Set when a resolved group received a new event (a regression). */
    regressedAt: integer("regressed_at"),
    /** The group this one was merged into (shared/grouping/merge.ts); merged groups leave the lists. */
    mergedInto: text("merged_into"),
    /** Affected users: a HyperLogLog sketch of distinct user keys (shared/hll.ts). */
    users: text("users"),
    /** "Resolve in next release": only an event of a later release reopens it (shared/alerts/release-order.ts). */
    resolvedInRelease: text("resolved_in_release"),
    /** The sortable key of `resolvedInRelease`, compared in SQL by the processor. */
    resolvedReleaseKey: text("resolved_release_key"),
  },
  (t) => [primaryKey({ columns: [t.projectId, t.id] })],
);

/** Occurrences per group, hour, release and environment: histogram, sparklines, release breakdown. */
export const groupHours = sqliteTable(
  "group_hours",
  {
    projectId: integer("project_id").notNull(),
    groupId: text("group_id").notNull(),
    /** Start of the hour, epoch ms. */
    hour: integer("hour").notNull(),
    release: text("release").notNull().default(""),
    environment: text("environment").notNull().default(""),
    count: integer("count").notNull().default(0),
    /** The latest occurrence in the hour (epoch ms). */
    lastSeen: integer("last_seen").notNull(),
  },
  (t) => [primaryKey({ columns: [t.projectId, t.groupId, t.hour, t.release, t.environment] })],
);

/**
 * One row per stored item that has no search document (RUM payload, session, client report,
 * attachment, unknown item types): the pointer to its raw bytes in an R2 segment. Errors and
 * transactions are found through the search backend instead (their documents carry the pointer).
 */
export const events = sqliteTable(
  "events",
  {
    projectId: integer("project_id").notNull(),
    eventId: text("event_id").notNull(),
    category: text("category").notNull(),
    groupId: text("group_id"),
    occurredAt: integer("occurred_at").notNull(),
    receivedAt: integer("received_at").notNull(),
    type: text("type"),
    message: text("message"),
    level: text("level"),
    release: text("release"),
    environment: text("environment"),
    userId: text("user_id"),
    segmentKey: text("segment_key").notNull(),
    segmentOffset: integer("segment_offset").notNull(),
    segmentLength: integer("segment_length").notNull(),
    /** The processor invocation that inserted the row. */
    batchId: text("batch_id").notNull(),
  },
  (t) => [primaryKey({ columns: [t.projectId, t.eventId] })],
);

/** One row per R2 segment object: what it holds, for retention without scanning events. */
export const segments = sqliteTable(
  "segments",
  {
    key: text("key").primaryKey(),
    createdAt: integer("created_at").notNull(),
    bytes: integer("bytes").notNull(),
    eventCount: integer("event_count").notNull(),
    /** JSON: { "<projectId>": ["<eventId>", ...] } of events still referenced. */
    contents: text("contents").notNull(),
    /**
     * When the first share of a project it holds expires (created_at + the shortest retention among
     * them): retention reads due rows by this index instead of walking every row per retention. 0
     * (rows written before it existed) is due at once, and retention then sets it.
     */
    expiresAt: integer("expires_at").notNull().default(0),
    /** JSON array of the metadata shards holding a share of the same R2 object (NULL: unknown, all). */
    shards: text("shards"),
  },
  (t) => [index("segments_created_at").on(t.createdAt), index("segments_expires_at").on(t.expiresAt, t.key)],
);

/** Attachments (Sentry) and claim-checked payloads stay separate R2 objects. */
export const attachments = sqliteTable(
  "attachments",
  {
    projectId: integer("project_id").notNull(),
    eventId: text("event_id").notNull(),
    name: text("name").notNull(),
    blobKey: text("blob_key").notNull(),
    contentType: text("content_type"),
    attachmentType: text("attachment_type"),
    size: integer("size").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.projectId, t.eventId, t.name] })],
);

/** Outcome counters per project, category, outcome, reason and minute (the stats API). */
export const outcomes = sqliteTable(
  "outcomes",
  {
    projectId: integer("project_id").notNull(),
    minute: integer("minute").notNull(),
    category: text("category").notNull(),
    outcome: text("outcome").notNull(),
    reason: text("reason").notNull().default(""),
    quantity: integer("quantity").notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.projectId, t.minute, t.category, t.outcome, t.reason] })],
);

/** RUM page views and load-time histogram per project, page and minute. */
export const rumPageMinutes = sqliteTable(
  "rum_page_minutes",
  {
    projectId: integer("project_id").notNull(),
    page: text("page").notNull(),
    minute: integer("minute").notNull(),
    views: integer("views").notNull().default(0),
    loadCount: integer("load_count").notNull().default(0),
    loadSumMs: real("load_sum_ms").notNull().default(0),
    /** JSON array of counts per load-time bucket (shared/rum/histogram.ts bounds). */
    histogram: text("histogram").notNull().default("[]"),
  },
  (t) => [
    primaryKey({ columns: [t.projectId, t.page, t.minute] }),
    // The RUM pages API reads a time range of every page: by minute, not all the project's rows.
    index("rum_page_minutes_minute").on(t.projectId, t.minute),
  ],
);

/** Release health: session counts per project, release, environment and minute. */
export const sessionMinutes = sqliteTable(
  "session_minutes",
  {
    projectId: integer("project_id").notNull(),
    release: text("release").notNull(),
    environment: text("environment").notNull().default(""),
    minute: integer("minute").notNull(),
    started: integer("started").notNull().default(0),
    exited: integer("exited").notNull().default(0),
    errored: integer("errored").notNull().default(0),
    crashed: integer("crashed").notNull().default(0),
    abnormal: integer("abnormal").notNull().default(0),
  },
  (t) => [
    primaryKey({ columns: [t.projectId, t.release, t.environment, t.minute] }),
    // Release health reads a time range of every release: by minute, not all the project's rows.
    index("session_minutes_minute").on(t.projectId, t.minute),
  ],
);

/** Messages that exhausted their retries or could not be parsed, kept for inspection and replay. */
export const deadLetters = sqliteTable(
  "dead_letters",
  {
    id: text("id").primaryKey(),
    queue: text("queue").notNull(),
    reason: text("reason").notNull(),
    body: text("body").notNull(),
    attempts: integer("attempts").notNull().default(0),
    createdAt: integer("created_at").notNull(),
    replayedAt: integer("replayed_at"),
    /** The project whose items the body holds (one per dead letter); null when it names none. */
    projectId: integer("project_id"),
  },
  (t) => [
    index("dead_letters_created_at").on(t.createdAt),
    index("dead_letters_project_created").on(t.projectId, t.createdAt),
  ],
);

/**
 * R2 blobs (claim checks, attachments) a dead letter still needs: the orphan sweep keeps them. One
 * row per blob and dead letter, so two dead letters of one item each keep its blob while they live.
 */
export const deadLetterBlobs = sqliteTable(
  "dead_letter_blobs",
  {
    blobKey: text("blob_key").notNull(),
    deadLetterId: text("dead_letter_id").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.blobKey, t.deadLetterId] }),
    index("dead_letter_blobs_dead_letter").on(t.deadLetterId),
  ],
);

/** Where the retention cron's sweep of an R2 prefix stopped (the last key examined). */
export const sweepCursors = sqliteTable("sweep_cursors", {
  prefix: text("prefix").primaryKey(),
  after: text("after").notNull(),
  updatedAt: integer("updated_at").notNull(),
});

/**
 * Ledger of applied ingest messages, in the same transaction as the aggregates it guards, so a
 * redelivered message never double-counts. One row per processor batch, shard and send-time slice:
 * its id is the first 10 characters of its messages' ids (their send time in hex, 256 ms slices)
 * then `:<batch id>`, and `ids` lists the messages it applied (workers/processor/ledger-sql.ts). A
 * look-up reads the rows of one slice by primary-key range; retention prunes by the same range once
 * the queue can no longer redeliver.
 */
export const messageLedger = sqliteTable("message_ledger", {
  id: text("id").primaryKey(),
  /** The processor invocation that applied the messages; its aggregates join on it. */
  batchId: text("batch_id").notNull(),
  appliedAt: integer("applied_at").notNull(),
  /** JSON array of the queue message ids this row applied. */
  ids: text("ids").notNull().default("[]"),
});

/**
 * Group counter deltas (shared/groups/fold.ts): what one processor batch adds to its groups'
 * counts, times, users and hourly occurrences, written as ONE row in the batch's transaction
 * (ledger-guarded there) instead of one row per group and per group × hour. Folded into
 * error_groups and group_hours in bulk and deleted, so a hot group is written once per fold, not
 * once per batch (Sentry's counter buffer does the same in front of Postgres).
 */
export const groupDeltas = sqliteTable("group_deltas", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  batchId: text("batch_id").notNull(),
  createdAt: integer("created_at").notNull(),
  /** JSON array of per-group deltas (count, first/last seen, last event, users registers). */
  groups: text("groups").notNull(),
  /** JSON array of [group, hour, release, environment, count, last seen]. */
  hours: text("hours").notNull(),
});

/**
 * A shard move's outbox (workers/console/move-project.ts): a chunk of a project's rows taken off
 * this shard in the same transaction that deletes them from their table, so that what a move still
 * has to copy can no longer change under it (a late batch's counts land in fresh rows, moved
 * later). Each row is copied to `to_shard` once, guarded there by a ledger row named after `id`,
 * then deleted.
 */
export const moveOutbox = sqliteTable(
  "move_outbox",
  {
    /** Random per chunk, never reused: the target's guard is named after it. */
    id: text("id").primaryKey(),
    projectId: integer("project_id").notNull(),
    toShard: integer("to_shard").notNull(),
    tableName: text("table_name").notNull(),
    /** JSON array of the rows, one object per row keyed by column name. */
    rows: text("rows").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [index("move_outbox_project").on(t.projectId, t.createdAt)],
);

/**
 * The fence a project move puts on each shard the project left (workers/console/move-project.ts):
 * a trigger (migration 0013) aborts any transaction that writes a ledger entry of a departed
 * project's share here, so a batch that read the old pointer cannot commit on this shard once the
 * move has swept it; the batch is retried and reads the new pointer. A move towards this shard
 * removes the project's row first.
 */
export const departedProjects = sqliteTable("departed_projects", {
  projectId: integer("project_id").primaryKey(),
  toShard: integer("to_shard").notNull(),
  departedAt: integer("departed_at").notNull(),
});

/**
 * The fold claim: one row; a fold takes the deltas above `through` by moving it, in the same
 * transaction as its writes, so two folds racing over the same deltas apply them once.
 */
export const groupFold = sqliteTable("group_fold", {
  id: integer("id").primaryKey(),
  token: text("token").notNull(),
  through: integer("through").notNull(),
});

/**
 * Dashboard sessions (workers/console/sessions.ts): one row per login, keyed by the SHA-256 of the
 * cookie's random id (a leaked table holds no usable cookie), bound to a fingerprint of the admin
 * token so that changing the token revokes them all.
 */
export const consoleSessions = sqliteTable("console_sessions", {
  idHash: text("id_hash").primaryKey(),
  tokenFingerprint: text("token_fingerprint").notNull(),
  createdAt: integer("created_at").notNull(),
  lastSeenAt: integer("last_seen_at").notNull(),
});

/** Failed dashboard logins per client network in the current window (workers/console/login-throttle.ts). */
export const consoleLoginFailures = sqliteTable("console_login_failures", {
  client: text("client").primaryKey(),
  windowStart: integer("window_start").notNull(),
  failures: integer("failures").notNull(),
});

/**
 * Where later events of a merged group go (shared/grouping/merge.ts): the processor looks up the
 * group ids it computed and writes to `to_group` instead. Bounded per project (MAX_REDIRECTS).
 */
export const groupRedirects = sqliteTable(
  "group_redirects",
  {
    projectId: integer("project_id").notNull(),
    fromGroup: text("from_group").notNull(),
    toGroup: text("to_group").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.projectId, t.fromGroup] }),
    index("group_redirects_to").on(t.projectId, t.toGroup),
  ],
);

/**
 * Which groups have events in which environment and release (facet = "environment" | "release"):
 * the issue list's filters, read by key. Written once per group and value (and at most daily after),
 * never per event; `last_seen` is day-coarse, for retention.
 */
export const groupFacets = sqliteTable(
  "group_facets",
  {
    projectId: integer("project_id").notNull(),
    facet: text("facet").notNull(),
    value: text("value").notNull(),
    groupId: text("group_id").notNull(),
    lastSeen: integer("last_seen").notNull(),
  },
  (t) => [primaryKey({ columns: [t.projectId, t.facet, t.value, t.groupId] })],
);

/** User feedback (Sentry `user_report` items and `feedback` events), shown on its event and group. */
export const userFeedback = sqliteTable(
  "user_feedback",
  {
    projectId: integer("project_id").notNull(),
    /** The feedback item's own id. */
    id: text("id").notNull(),
    /** The event the feedback is about, when the SDK names one. */
    eventId: text("event_id"),
    /** That event's group, resolved when the feedback was processed (null if unknown by then). */
    groupId: text("group_id"),
    name: text("name"),
    email: text("email"),
    message: text("message").notNull(),
    url: text("url"),
    /** user_report | feedback */
    source: text("source").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.projectId, t.id] }),
    index("user_feedback_group").on(t.projectId, t.groupId, t.createdAt),
    index("user_feedback_event").on(t.projectId, t.eventId),
    // Feedback still waiting for its event's group (relinked by the processor's cron).
    index("user_feedback_unlinked")
      .on(t.createdAt)
      .where(sql`${t.groupId} IS NULL AND ${t.eventId} IS NOT NULL`),
  ],
);

/** Alert rules (project configuration, control database): triggers, target and cooldown. */
export const alertRules = sqliteTable(
  "alert_rules",
  {
    projectId: integer("project_id").notNull(),
    id: text("id").notNull(),
    name: text("name").notNull(),
    /** JSON of `AlertRuleConfig` (shared/alerts/rules.ts): triggers, threshold, spike, filters. */
    config: text("config").notNull(),
    /** webhook | slack */
    targetType: text("target_type").notNull(),
    targetUrl: text("target_url").notNull(),
    /** HMAC-SHA256 key of the X-Sluice-Signature header. */
    secret: text("secret").notNull(),
    cooldownMinutes: integer("cooldown_minutes").notNull().default(30),
    enabled: integer("enabled").notNull().default(1),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.projectId, t.id] })],
);

/** One row per alert delivery (workers/alerter), with every attempt in `attempts_log`. */
export const alertDeliveries = sqliteTable(
  "alert_deliveries",
  {
    ruleId: text("rule_id").notNull(),
    /** Time-prefixed, so the newest come first in key order. */
    id: text("id").notNull(),
    projectId: integer("project_id").notNull(),
    groupId: text("group_id"),
    trigger: text("trigger").notNull(),
    /** pending | retrying | delivered | refused | dead_letter */
    status: text("status").notNull(),
    attempts: integer("attempts").notNull().default(0),
    lastStatusCode: integer("last_status_code"),
    lastError: text("last_error"),
    latencyMs: integer("latency_ms"),
    /** JSON array of {at, status, error, latencyMs}, one per attempt (capped). */
    attemptsLog: text("attempts_log").notNull().default("[]"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.ruleId, t.id] })],
);

/** Until when a rule stays quiet about a group and trigger (its cooldown), so a storm is one message. */
export const alertState = sqliteTable(
  "alert_state",
  {
    ruleId: text("rule_id").notNull(),
    groupId: text("group_id").notNull(),
    trigger: text("trigger").notNull(),
    /** Epoch ms; new_issue alerts once per group, so its rows never expire. */
    quietUntil: integer("quiet_until").notNull(),
  },
  (t) => [primaryKey({ columns: [t.ruleId, t.groupId, t.trigger] })],
);

/**
 * Events per group and received minute, written only for projects with spike or frequency rules
 * and kept for about a day: what those triggers compare, without a scan of events.
 */
export const groupMinutes = sqliteTable(
  "group_minutes",
  {
    projectId: integer("project_id").notNull(),
    groupId: text("group_id").notNull(),
    minute: integer("minute").notNull(),
    count: integer("count").notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.projectId, t.groupId, t.minute] })],
);

/**
 * Source-map artifact bundles (shared/sourcemaps): one row per assembled bundle (sentry-cli) or
 * Raygun upload, project configuration read through the control database. `id` is the bundle's
 * SHA-1 checksum, so re-assembling the same upload is a no-op.
 */
export const artifactBundles = sqliteTable(
  "artifact_bundles",
  {
    projectId: integer("project_id").notNull(),
    id: text("id").notNull(),
    /** sentry-cli | raygun */
    source: text("source").notNull(),
    /** "" when the upload named no release (debug-id bundles, Raygun). */
    release: text("release").notNull(),
    dist: text("dist").notNull(),
    files: integer("files").notNull(),
    bytes: integer("bytes").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.projectId, t.id] })],
);

/** The files of an artifact bundle, each its own R2 object; looked up by debug id or by release + URL. */
export const artifactFiles = sqliteTable(
  "artifact_files",
  {
    projectId: integer("project_id").notNull(),
    bundleId: text("bundle_id").notNull(),
    /** `~/path` (query and host stripped) for URL matching; Raygun: the minified file's URL. */
    url: text("url").notNull(),
    /** minified_source | source_map */
    kind: text("kind").notNull(),
    debugId: text("debug_id"),
    release: text("release").notNull(),
    dist: text("dist").notNull(),
    /** For a minified source: the `~/` URL of its map (the `sourcemap` header, resolved). */
    mapUrl: text("map_url"),
    blobKey: text("blob_key").notNull(),
    size: integer("size").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.projectId, t.bundleId, t.url, t.kind] }),
    index("artifact_files_debug_id").on(t.projectId, t.debugId),
    index("artifact_files_url").on(t.projectId, t.url, t.release),
  ],
);
