// Small labels: a group's status (active / resolved / ignored, and "regressed"), an event's level,
// and a time shown relative with the exact UTC time on hover.
import type { FC } from "hono/jsx";
import { absTime, relTime } from "../format";

export const StatusBadge: FC<{ status: string; regressedAt?: string | null | undefined }> = ({
  status,
  regressedAt,
}) => (
  <>
    <span class={`badge b-${status}`} data-status={status}>
      {status === "active" ? "Active" : status === "resolved" ? "Resolved" : "Ignored"}
    </span>
    {status === "active" && regressedAt ? (
      <>
        {" "}
        <span class="badge b-regressed" title={`Regressed ${absTime(regressedAt)}`} data-regressed="true">
          Regressed
        </span>
      </>
    ) : null}
  </>
);

export const LevelBadge: FC<{ level: string | null | undefined }> = ({ level }) => {
  const l = level ?? "error";
  const cls = ["fatal", "error", "warning", "info", "debug"].includes(l) ? l : "debug";
  return <span class={`badge l-${cls}`}>{l}</span>;
};

export const When: FC<{ iso: string | null | undefined; now?: number }> = ({ iso, now }) => (
  <time datetime={iso ?? ""} title={absTime(iso)} class="nowrap">
    {relTime(iso, now)}
  </time>
);
