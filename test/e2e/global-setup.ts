// Starts one stack for all end-to-end test files and hands its coordinates to them via `inject`.
import type { TestProject } from "vitest/node";
import { type RunningStack, startStack } from "./stack";

let stack: RunningStack | undefined;

export async function setup(project: TestProject) {
  stack = await startStack();
  project.provide("stack", { url: stack.url, adminToken: stack.adminToken, project: stack.project });
}

export async function teardown() {
  await stack?.stop();
}

declare module "vitest" {
  export interface ProvidedContext {
    stack: {
      url: string;
      adminToken: string;
      project: { id: string; key: string; dsn: string; name: string };
    };
  }
}
