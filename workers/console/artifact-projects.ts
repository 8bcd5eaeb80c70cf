// Finds the project an upload names: sentry-cli's SENTRY_PROJECT and Raygun's application id may
// be Sluice's numeric project id or the project's name.

import { getProject, listProjects, type ProjectRow } from "./projects-store";

export async function findProjectByRef(db: D1Database, ref: string): Promise<ProjectRow | null> {
  const trimmed = ref.trim();
  if (/^[1-9][0-9]{0,15}$/.test(trimmed)) {
    const byId = await getProject(db, trimmed);
    if (byId) return byId;
  }
  const name = trimmed.toLowerCase();
  return (await listProjects(db)).find((p) => p.name.toLowerCase() === name) ?? null;
}
