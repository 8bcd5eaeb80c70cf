// The compatibility scenario with the real @sentry/node (the repo's pinned devDependency) as a plain
// Node program: argv[2] is the DSN. Prints {"errors": [...], "other": id, "message": id}.
import * as Sentry from "@sentry/node";

function parsePort(raw) {
  if (!/^\d+$/.test(raw)) throw new RangeError(`invalid port: ${raw}`);
  return Number(raw);
}

function loadConfig(raw) {
  return { port: parsePort(raw) };
}

function divide(a, b) {
  if (b === 0) throw new TypeError("division by zero");
  return a / b;
}

function ratio(a) {
  return divide(a, 0);
}

Sentry.init({
  dsn: process.argv[2],
  release: "compat@1.2.3",
  environment: "compat",
  sendDefaultPii: true,
  tracesSampleRate: 1,
  sendClientReports: true,
});
Sentry.setUser({ id: "u-42", email: "ada@example.com", username: "ada" });
Sentry.setTag("feature", "checkout");
Sentry.addBreadcrumb({ category: "config", message: "loading config", level: "info" });

const out = { errors: [] };
await Sentry.startSpan({ name: "compat run", op: "script" }, async () => {
  for (const raw of ["abc", "xyz"]) {
    try {
      loadConfig(raw);
    } catch (err) {
      out.errors.push(Sentry.captureException(err));
    }
  }
  try {
    ratio(1);
  } catch (err) {
    out.other = Sentry.captureException(err);
  }
  out.message = Sentry.captureMessage("compat message");
});
if (!(await Sentry.close(10_000))) throw new Error("@sentry/node did not flush");
console.log(JSON.stringify(out));
