// Fixtures for the issue-workflow tests (merge, affected users, filters, feedback): Sentry events
// sent through the real edge, queue, processor and indexer, and waits for what they produce.
import { api, call, type TestProject, waitFor } from "../../test/helpers";

export interface SentEvent {
  /** Client fingerprint: events with the same one share a group. */
  group: string;
  user?: string;
  ip?: string;
  environment?: string;
  release?: string;
  at?: number;
}

export const hexId = () => crypto.randomUUID().replace(/-/g, "");

/** Posts one envelope with the given items ([headers, payload] pairs) to the project. */
export async function postEnvelope(
  p: TestProject,
  items: [Record<string, unknown>, unknown][],
  header: Record<string, unknown> = {},
): Promise<Response> {
  const lines = [JSON.stringify(header)];
  for (const [h, payload] of items) lines.push(JSON.stringify(h), JSON.stringify(payload));
  const res = await call(`/api/${p.id}/envelope/?sentry_key=${p.key}`, {
    method: "POST",
    body: lines.join("\n"),
  });
  if (res.status !== 200) throw new Error(`envelope refused: ${res.status} ${await res.text()}`);
  return res;
}

/** Sends events (one envelope each) and returns their ids. */
export async function sendEvents(p: TestProject, events: SentEvent[]): Promise<string[]> {
  const ids: string[] = [];
  for (const e of events) {
    const id = hexId();
    ids.push(id);
    await postEnvelope(
      p,
      [
        [
          { type: "event" },
          {
            event_id: id,
            timestamp: (e.at ?? Date.now()) / 1000,
            level: "error",
            platform: "node",
            fingerprint: [e.group],
            exception: { values: [{ type: `${e.group}Error`, value: `${e.group} failed` }] },
            user: e.user || e.ip ? { id: e.user, ip_address: e.ip } : undefined,
            environment: e.environment,
            release: e.release,
          },
        ],
      ],
      { event_id: id },
    );
  }
  return ids;
}

export interface ApiGroup {
  id: string;
  type: string | null;
  count: number;
  users: number;
  firstSeen: string;
  lastSeen: string;
  lastEventId: string | null;
  mergedInto: string | null;
  status: string;
}

export async function listGroups(p: TestProject, query = ""): Promise<ApiGroup[]> {
  const r = await api<{ groups: ApiGroup[] }>(`/api/v1/projects/${p.id}/groups${query}`);
  if (r.status !== 200) throw new Error(`groups: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.groups;
}

/** Waits until the project's groups hold `total` events, then returns them by type. */
export async function groupsWhenCounted(p: TestProject, total: number): Promise<Map<string, ApiGroup>> {
  const groups = await waitFor(async () => {
    const gs = await listGroups(p);
    return gs.reduce((s, g) => s + g.count, 0) === total ? gs : null;
  });
  return new Map(groups.map((g) => [g.type!, g]));
}

/** Waits until the event index holds the event (the indexer ran). */
export async function indexed(p: TestProject, eventId: string): Promise<void> {
  await waitFor(async () => (await api(`/api/v1/projects/${p.id}/events/${eventId}`)).status === 200);
}
