// Login and logout: the admin token, typed once, becomes an HTTP-only session cookie.
import type { Context } from "hono";
import { configuredToken, safeEqual } from "../../auth";
import { Layout } from "../components/layout";
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
  const form = await c.req.parseBody();
  const next = safeNext(form.next);
  if (typeof form.token !== "string" || !safeEqual(form.token, token))
    return c.html(render(next, "That token is not right."), 401);
  await startSession(c, token);
  return c.redirect(next, 303);
}

export function logout(c: Context<UiEnv>) {
  endSession(c);
  return c.redirect("/ui/login", 303);
}
