// The compatibility scenario with the real raygun4node (npm `raygun`, the repo's pinned
// devDependency): argv[2] is the Sluice URL, argv[3] the ingest key. Prints the status of each send.
import raygun from "raygun";

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

const url = new URL(process.argv[2]);
const client = new raygun.Client().init({
  apiKey: process.argv[3],
  host: url.hostname,
  port: Number(url.port),
  useSSL: url.protocol === "https:",
  tags: ["checkout"],
});
client.setVersion("compat@1.2.3");
const userInfo = { identifier: "u-42", email: "ada@example.com", fullName: "ada", isAnonymous: false };

const statuses = [];
async function report(f) {
  // Breadcrumbs live in the async context of the send (AsyncLocalStorage), as in a request handler.
  client.addBreadcrumb({ category: "config", message: "loading config", level: "info" });
  try {
    f();
  } catch (err) {
    const res = await client.send(err, { userInfo });
    statuses.push(res?.statusCode ?? null);
  }
}
for (const raw of ["abc", "xyz"]) await report(() => loadConfig(raw));
await report(() => ratio(1));
console.log(JSON.stringify({ statuses }));
