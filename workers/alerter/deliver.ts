// One delivery attempt: a POST to the rule's target with the SSRF rules of the issue. Redirects
// are not followed (a 3xx is a failure), the request is cut after ALERT_TIMEOUT_MS (10 s), and the
// response body is discarded unread: nothing a target says is stored but its status.

export type AttemptResult =
  | { outcome: "delivered"; status: number; latencyMs: number }
  /** Network error, timeout, 408, 429 or 5xx: worth another attempt. */
  | { outcome: "retry"; status: number | null; error: string; retryAfter: string | null; latencyMs: number }
  /** Any other answer (4xx, 3xx): the target will not accept it. */
  | { outcome: "failed"; status: number; error: string; latencyMs: number };

export interface AttemptRequest {
  url: string;
  body: string;
  headers: Record<string, string>;
  timeoutMs: number;
}

export async function attemptDelivery(req: AttemptRequest): Promise<AttemptResult> {
  const started = Date.now();
  let res: Response;
  try {
    res = await fetch(req.url, {
      method: "POST",
      body: req.body,
      headers: { "content-type": "application/json", "user-agent": "Sluice-Alerts/1", ...req.headers },
      redirect: "manual",
      signal: AbortSignal.timeout(req.timeoutMs),
    });
  } catch (err) {
    const e = err as Error;
    const timedOut = e?.name === "TimeoutError" || e?.name === "AbortError";
    return {
      outcome: "retry",
      status: null,
      error: timedOut
        ? `no answer within ${req.timeoutMs} ms`
        : `network error: ${String(e?.message ?? e).slice(0, 200)}`,
      retryAfter: null,
      latencyMs: Date.now() - started,
    };
  }
  const latencyMs = Date.now() - started;
  // Unread: a target's body is never stored, and cancelling frees the connection.
  await res.body?.cancel().catch(() => {});
  const s = res.status;
  if (s >= 200 && s < 300) return { outcome: "delivered", status: s, latencyMs };
  if (s === 408 || s === 429 || s >= 500)
    return {
      outcome: "retry",
      status: s,
      error: `HTTP ${s}`,
      retryAfter: res.headers.get("retry-after"),
      latencyMs,
    };
  const why = s >= 300 && s < 400 ? `HTTP ${s} (redirects are not followed)` : `HTTP ${s}`;
  return { outcome: "failed", status: s, error: why, latencyMs };
}
