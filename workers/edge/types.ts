// The edge's Hono environment: bindings, plus what a request learns on its way (the authenticated
// project, so a later 4xx can still be counted as that project's invalid / too_large outcome).
import type { Category } from "../../shared/event";
import type { ProjectRecord } from "./project-cache";

export type EdgeApp = {
  Bindings: EdgeEnv;
  Variables: { project?: ProjectRecord; category?: Category; origin?: string | null };
};
