// The D1 call counter cron jobs budget with, against real local D1 in workerd: every kind of call
// counts once, a batch of counted statements still runs, and two names for one database share one
// wrapper.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { D1CallBudget } from "./d1-call-budget";

describe("D1CallBudget", () => {
  it("counts each statement run, batch and exec once, and the calls still work", async () => {
    const budget = new D1CallBudget(10);
    const db = budget.wrap(env.DB);
    await db.exec("CREATE TABLE IF NOT EXISTS budget_probe (n INTEGER PRIMARY KEY)");
    expect(budget.used).toBe(1);
    const insert = db.prepare("INSERT INTO budget_probe (n) VALUES (?)");
    await insert.bind(1).run();
    await db.batch([insert.bind(2), insert.bind(3), db.prepare("DELETE FROM budget_probe WHERE n = 3")]);
    expect(budget.used).toBe(3);
    const select = db.prepare("SELECT n FROM budget_probe ORDER BY n");
    expect((await select.all<{ n: number }>()).results.map((r) => r.n)).toEqual([1, 2]);
    expect(await select.first("n")).toBe(1);
    expect(await select.raw()).toEqual([[1], [2]]);
    expect(budget.used).toBe(6);
    expect(budget.left()).toBe(4);
    expect(budget.has(4)).toBe(true);
    expect(budget.has(5)).toBe(false);
    // Reserved calls are not offered until released.
    budget.reserved = 3;
    expect(budget.left()).toBe(1);
    budget.reserved = 0;
    // Preparing and binding make no call.
    db.prepare("SELECT 1").bind();
    expect(budget.used).toBe(6);
  });

  it("wraps every D1 binding of an env, once per database, and passes the rest through", () => {
    const budget = new D1CallBudget(5);
    const fake = { prepare() {}, batch() {} } as unknown as D1Database;
    const wrapped = budget.wrapEnv({ DB: fake, ALIAS: fake, NAME: "x", BLOBS: env.BLOBS });
    expect(wrapped.DB).not.toBe(fake);
    expect(wrapped.ALIAS).toBe(wrapped.DB);
    expect(wrapped.NAME).toBe("x");
    expect(wrapped.BLOBS).toBe(env.BLOBS);
  });
});
