// Resolve / ignore / reopen buttons for a group: small POST forms carrying the session's CSRF
// token and the page to return to.
import type { FC } from "hono/jsx";

const ACTIONS: Record<string, [string, string][]> = {
  active: [
    ["resolved", "Resolve"],
    ["ignored", "Ignore"],
  ],
  resolved: [["active", "Reopen"]],
  ignored: [["active", "Stop ignoring"]],
};

export const StatusActions: FC<{
  projectId: string;
  groupId: string;
  status: string;
  csrf: string;
  back: string;
}> = ({ projectId, groupId, status, csrf, back }) => (
  <div class="actions">
    {(ACTIONS[status] ?? ACTIONS.active!).map(([to, label]) => (
      <form method="post" action={`/ui/projects/${projectId}/groups/${groupId}/status`} class="inline">
        <input type="hidden" name="csrf" value={csrf} />
        <input type="hidden" name="status" value={to} />
        <input type="hidden" name="back" value={back} />
        <button type="submit" class={to === "resolved" ? "primary" : ""} data-action={to}>
          {label}
        </button>
      </form>
    ))}
  </div>
);
