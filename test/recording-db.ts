// A D1 binding that records every statement it prepares (and the parameters bound to it), for the
// EXPLAIN QUERY PLAN tests (workers/console/query-plans.test.ts, workers/processor/alert-query-plans.test.ts).
import { env } from "cloudflare:workers";

export interface Recorded {
  sql: string;
  params: unknown[];
}

/** `db` (the control database by default), recording into `log`. */
export function recordingDb(log: Recorded[], db: D1Database = env.DB): D1Database {
  return new Proxy(db, {
    get(target, prop) {
      if (prop === "prepare")
        return (sql: string) => {
          const entry: Recorded = { sql, params: [] };
          log.push(entry);
          const stmt = target.prepare(sql);
          return new Proxy(stmt, {
            get(s, p) {
              if (p === "bind")
                return (...params: unknown[]) => {
                  entry.params = params;
                  return s.bind(...params);
                };
              const v = Reflect.get(s, p);
              return typeof v === "function" ? v.bind(s) : v;
            },
          });
        };
      const v = Reflect.get(target, prop);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
}
