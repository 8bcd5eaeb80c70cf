// The other tenant of the hostile-input suites: a victim project sends known good events (real
// fixture payloads, each with the run's marker) interleaved with an attacker's hostile traffic, so
// they share isolates, queue messages and processor batches with it. At the end every one of them
// must be readable through the console API (search) and counted (group counts): "events of other
// tenants lost" is the difference, and must be 0. Works over any transport (in process or HTTP).
import nodeReport from "../../workers/edge/raygun/fixtures/raygun4node-2.2.8-error.json";

/** One ingestion request (the pipeline worker's fetch in process, or real HTTP). */
export type Send = (path: string, init?: RequestInit) => Promise<Response>;
/** One admin API GET, JSON body parsed. */
export type Api = <T>(path: string) => Promise<{ status: number; body: T }>;

export type Protocol = "raygun" | "sentry";

export interface VictimProject {
  id: string;
  key: string;
}

export interface VictimFigures {
  victimSent: number;
  /** Victim requests not answered 2xx (a hostile neighbour must not make them fail either). */
  victimRefused: number;
  victimSearchable: number;
  victimCounted: number;
  victimLost: number;
  /** From the last victim answer until every victim event was readable (NaN: never). */
  victimDrainMs: number;
}

const hex = () => crypto.randomUUID().replaceAll("-", "");

function raygunBody(message: string): string {
  const report = structuredClone(nodeReport);
  report.occurredOn = new Date().toISOString();
  report.details.error.message = message;
  return JSON.stringify(report);
}

function sentryBody(message: string): string {
  const eventId = hex();
  const event = {
    event_id: eventId,
    timestamp: Date.now() / 1000,
    level: "error",
    platform: "node",
    exception: { values: [{ type: "VictimError", value: message }] },
  };
  return `${JSON.stringify({ event_id: eventId, sent_at: new Date().toISOString() })}\n{"type":"event"}\n${JSON.stringify(event)}\n`;
}

export class VictimTraffic {
  readonly marker = `victim${hex().slice(0, 12)}`;
  private readonly pending: Promise<void>[] = [];
  private sent = 0;
  private refused: string[] = [];
  private lastAnswerAt = 0;
  private readonly readErrors: string[] = [];

  constructor(
    private readonly send: Send,
    private readonly project: VictimProject,
    readonly protocol: Protocol,
  ) {}

  /** Sends one good event without waiting for it, so it overlaps the next hostile request. */
  fire(): void {
    const i = this.sent++;
    const message = `${this.marker} ${this.protocol} victim event number ${i}`;
    const request =
      this.protocol === "raygun"
        ? this.send("/entries", {
            method: "POST",
            headers: { "x-apikey": this.project.key, "content-type": "application/json" },
            body: raygunBody(message),
          })
        : this.send(`/api/${this.project.id}/envelope/?sentry_key=${this.project.key}&sentry_version=7`, {
            method: "POST",
            headers: { "content-type": "application/x-sentry-envelope" },
            body: sentryBody(message),
          });
    this.pending.push(
      request.then(
        async (res) => {
          const text = await res.text();
          this.lastAnswerAt = Date.now();
          if (res.status >= 300) this.refused.push(`${res.status} ${text.slice(0, 200)}`);
        },
        (err: unknown) => {
          this.lastAnswerAt = Date.now();
          this.refused.push(`exception: ${String(err)}`);
        },
      ),
    );
  }

  /** Waits until every victim event is searchable and counted, or `timeoutMs` passed; the figures. */
  async account(
    api: Api,
    timeoutMs: number,
  ): Promise<VictimFigures & { refusals: string[]; readErrors: string[] }> {
    await Promise.all(this.pending);
    const accepted = this.sent - this.refused.length;
    const read = async () => {
      const search = await api<{ total: number }>(
        `/api/v1/projects/${this.project.id}/search?q=${this.marker}&limit=1`,
      );
      if (search.status !== 200) throw new Error(`search answered ${search.status}`);
      return { searchable: search.body.total, counted: await this.counted(api) };
    };
    const start = Date.now();
    let last = { searchable: 0, counted: 0 };
    let readyAt = Number.NaN;
    while (Date.now() - start < timeoutMs) {
      try {
        last = await read();
      } catch (err) {
        // A stalled console counts as "not readable yet"; the last good reading decides at the end.
        this.readErrors.push(String(err).slice(0, 200));
      }
      if (last.searchable >= accepted && last.counted >= accepted) {
        readyAt = Date.now();
        break;
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    const readable = Math.min(last.searchable, last.counted);
    return {
      victimSent: this.sent,
      victimRefused: this.refused.length,
      victimSearchable: last.searchable,
      victimCounted: last.counted,
      victimLost: this.sent - readable,
      victimDrainMs: Math.max(0, readyAt - this.lastAnswerAt),
      refusals: this.refused.slice(0, 5),
      readErrors: this.readErrors.slice(0, 3),
    };
  }

  /** Sum of the victim project's group counts (the groups API, paged to the end). */
  private async counted(api: Api): Promise<number> {
    let sum = 0;
    let cursor: string | null = null;
    do {
      const page = cursor ? `&cursor=${encodeURIComponent(cursor)}` : "";
      const r: { status: number; body: { groups?: { count: number }[]; next?: string | null } } = await api(
        `/api/v1/projects/${this.project.id}/groups?limit=100${page}`,
      );
      if (r.status !== 200) throw new Error(`groups answered ${r.status}`);
      sum += (r.body.groups ?? []).reduce((n, g) => n + g.count, 0);
      cursor = r.body.next ?? null;
    } while (cursor);
    return sum;
  }
}
