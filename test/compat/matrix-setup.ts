// Global setup of the compatibility suite, beside the e2e stack's: forgets the previous run's
// records, and after the run regenerates the README's matrix from the records of this one.
import { clearRun, writeMatrix } from "./matrix";

export function setup() {
  clearRun();
}

export function teardown() {
  const n = writeMatrix();
  if (n > 0) console.log(`compat: README matrix updated from ${n} client(s)`);
}
