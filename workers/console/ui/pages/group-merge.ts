// The issue list's "Merge selected" action: the checked issues are merged into the one with the
// most events (ties: the oldest), through the same API route, then the merged issue is shown.
import type { Context } from "hono";
import { ApiError, callApi } from "../api";
import type { UiEnv } from "../session";
import type { Group } from "../types";

const GROUP_ID = /^[0-9a-f]{16}$/;
const MAX_SELECTED = 21;

export async function groupMergeSubmit(c: Context<UiEnv>) {
  const id = c.req.param("id")!;
  let form: Record<string, unknown>;
  try {
    form = await c.req.parseBody({ all: true });
  } catch {
    throw new ApiError(400, "malformed form body");
  }
  const raw = form.groups;
  const picked = [
    ...new Set((Array.isArray(raw) ? raw : [raw]).filter((g): g is string => typeof g === "string")),
  ];
  if (picked.length < 2) throw new ApiError(400, "select at least two issues to merge");
  if (picked.length > MAX_SELECTED) throw new ApiError(400, `select at most ${MAX_SELECTED} issues to merge`);
  if (!picked.every((g) => GROUP_ID.test(g))) throw new ApiError(400, "invalid issue id");
  const groups = await Promise.all(
    picked.map((g) => callApi<Group>(c, `/api/v1/projects/${id}/groups/${g}`)),
  );
  groups.sort((a, b) => b.count - a.count || a.firstSeen.localeCompare(b.firstSeen));
  const into = groups[0]!.id;
  await callApi(c, `/api/v1/projects/${id}/groups/merge`, {
    method: "POST",
    body: { into, groups: groups.slice(1).map((g) => g.id) },
  });
  return c.redirect(`/ui/projects/${id}/groups/${into}`, 303);
}
