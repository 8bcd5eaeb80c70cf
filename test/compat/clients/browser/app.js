// The compatibility scenario in the browser, for @sentry/browser and raygun4js alike: the page calls
// runScenario(report) with the SDK's capture function; errors are raised two calls deep.
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

window.runScenario = (report) => {
  for (const raw of ["abc", "xyz"]) {
    try {
      loadConfig(raw);
    } catch (err) {
      report(err);
    }
  }
  try {
    ratio(1);
  } catch (err) {
    report(err);
  }
};
