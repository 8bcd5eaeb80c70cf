// Counts the D1 calls a cron invocation makes, so that its jobs stop at a budget of their own
// instead of at the platform's limit: Workers may make 1,000 D1 queries per invocation (Workers
// Paid), and a call past it throws, failing whatever step is under way and every step after it.
// Retention over thousands of projects would otherwise die at the same project every run.
//
// A call is one trip to the binding: a statement's all/run/first/raw, a batch (its statements travel
// together) or an exec. Statements are counted where they run, so a batch of statements built by
// the wrapped database's `prepare` counts once.

const STATEMENT_RUNS = new Set(["all", "run", "first", "raw"]);

export class D1CallBudget {
  used = 0;
  /** Calls set aside for later steps: left() does not offer them until this is lowered again. */
  reserved = 0;
  /** One counted wrapper per database, so that two names for one binding stay one object. */
  private readonly wrapped = new Map<D1Database, D1Database>();
  constructor(readonly limit: number) {}

  /** Calls left before the budget (less what is reserved) is spent; never negative. */
  left(): number {
    return Math.max(0, this.limit - this.reserved - this.used);
  }

  /** True while at least `calls` more calls fit. */
  has(calls: number): boolean {
    return this.left() >= calls;
  }

  /** The same database, with every call it makes counted against this budget. */
  wrap(db: D1Database): D1Database {
    const known = this.wrapped.get(db);
    if (known) return known;
    const budget = this;
    // batch() only takes the runtime's own statements: unwrap the counted ones first.
    const raw = new WeakMap<object, D1PreparedStatement>();
    const statement = (s: D1PreparedStatement): D1PreparedStatement => {
      const counted = new Proxy(s, {
        get(target, prop) {
          const value = Reflect.get(target, prop, target) as unknown;
          if (typeof value !== "function") return value;
          if (prop === "bind")
            return (...args: unknown[]) =>
              statement((value as (...a: unknown[]) => D1PreparedStatement).apply(target, args));
          if (typeof prop === "string" && STATEMENT_RUNS.has(prop))
            return (...args: unknown[]) => {
              budget.used++;
              return (value as (...a: unknown[]) => unknown).apply(target, args);
            };
          return (value as (...a: unknown[]) => unknown).bind(target);
        },
      });
      raw.set(counted, s);
      return counted;
    };
    const counted = new Proxy(db, {
      get(target, prop) {
        const value = Reflect.get(target, prop, target) as unknown;
        if (typeof value !== "function") return value;
        if (prop === "prepare") return (sql: string) => statement(target.prepare(sql));
        if (prop === "batch")
          return (statements: D1PreparedStatement[]) => {
            budget.used++;
            return target.batch(statements.map((s) => raw.get(s) ?? s));
          };
        if (prop === "exec")
          return (sql: string) => {
            budget.used++;
            return target.exec(sql);
          };
        return (value as (...a: unknown[]) => unknown).bind(target);
      },
    });
    this.wrapped.set(db, counted);
    return counted;
  }

  /**
   * A copy of `env` whose D1 bindings (every value with prepare and batch) count against this
   * budget; the rest is passed through unchanged.
   */
  wrapEnv<E extends object>(env: E): E {
    const out: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(env)) out[name] = isD1(value) ? this.wrap(value) : value;
    return out as E;
  }
}

function isD1(value: unknown): value is D1Database {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as D1Database).prepare === "function" &&
    typeof (value as D1Database).batch === "function"
  );
}
