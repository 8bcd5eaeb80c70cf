// Login and logout: the admin token, typed once, starts a server-side session held in an HTTP-only
// cookie; failed logins are throttled per client network (login-throttle.ts); logout ends the session.
import type { Context } from "hono";
import { configuredToken, safeEqual } from "../../auth";
import { clearLoginFailures, clientKey, countLoginAttempt } from "../../login-throttle";
import { Layout } from "../components/layout";
import { readForm } from "../input";
import { endSession, safeNext, sameOrigin, startSession, type UiEnv } from "../session";

function render(next: string, error?: string) {
  return (
    <Layout title="Log in">
      <div class="card login">
        <h1>Log in to Sluice</h1>
        <p class="sub">Enter the console's admin token (locally: printed by npm start).</p>
        {error ? <div class="err">{error}</div> : null}
        <form method="post" action="/ui/login">
          <input type="hidden" name="next" value={next} />
          <label for="token">Admin token</label>
          <input id="token" type="password" name="token" autocomplete="current-password" required autofocus />
          <button class="primary" type="submit">
            Log in
          </button>
        </form>
      </div>
    </Layout>
  );
}

export function loginPage(c: Context<UiEnv>) {
  return c.html(render(safeNext(c.req.query("next"))));
}

export async function loginSubmit(c: Context<UiEnv>) {
  const token = configuredToken(c.env);
  if (!token) return c.text("console is not configured: set the ADMIN_TOKEN secret", 503);
  // Login CSRF: a cross-site form must not log the victim into anything.
  if (!sameOrigin(c)) return c.text("cross-site request refused", 403);
  const form = await readForm(c);
  const next = safeNext(form.next);
  // Counted (atomically) before the token is compared, so a throttled client learns nothing from
  // further guesses and concurrent posts get no more comparisons than sequential ones.
  const client = clientKey(c.req.header("cf-connecting-ip"));
  const wait = await countLoginAttempt(c.env.DB, client);
  if (wait > 0) {
    const minutes = Math.ceil(wait / 60);
    c.header("retry-after", String(wait));
    return c.html(render(next, `Too many failed logins: try again in ${minutes} min.`), 429);
  }
  if (typeof form.token !== "string" || !safeEqual(form.token, token)) {
    return c.html(render(next, "That token is not right."), 401);
  }
  await clearLoginFailures(c.env.DB, client);
  await startSession(c, token);
  return c.redirect(next, 303);
}

export async function logout(c: Context<UiEnv>) {
  await endSession(c);
  return c.redirect("/ui/login", 303);
}
