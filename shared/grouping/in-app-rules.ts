// Default in-app rules, applied by the Raygun and Sentry normalizers to frames whose SDK did not say
// whether they belong to the application (sentry-java, raygun4py and every Raygun SDK send no flag).
// Like Sentry's server-side defaults, each platform family names its runtime, standard library and
// package caches; a frame matching them is a system frame, so it neither raises the culprit nor takes
// part in grouping. An SDK's own `in_app` always wins over these rules.
//
//   family      system frames
//   jvm         modules java.* javax.* jdk.* sun.* com.sun.* kotlin.* kotlinx.* android.* androidx.*
//               com.android.* dalvik.* libcore.* org.jetbrains.* io.sentry.*; `<generated>` files
//   python      …/site-packages/…, …/dist-packages/…, the standard library (…/lib/pythonX.Y/…),
//               `<frozen …>` and `<string>` files
//   go          the runtime and standard library (a module without a dot in its first path
//               element, except `main`; files under GOROOT …/go/src/…) and the module cache
//               (…/pkg/mod/…, vendor/)
//   javascript  …/node_modules/…, `node:` and `internal/` core modules, `<anonymous>`,
//               `[native code]`, browser extensions
//   csharp      modules System.* Microsoft.* Mono.*
//   other       the JavaScript and Python rules, and libraries installed under /usr/lib, /usr/local/lib
// Every family also treats node_modules, site-packages and dist-packages paths as system frames, since
// a platform name is only a hint (Raygun's is derived from the client name).

import type { StackFrame } from "../event";

export type PlatformFamily = "jvm" | "python" | "go" | "javascript" | "csharp" | "other";

type FrameLike = Pick<StackFrame, "filename" | "module"> & { absPath?: string | null };

const FAMILIES: Record<string, PlatformFamily> = {
  java: "jvm",
  groovy: "jvm",
  kotlin: "jvm",
  scala: "jvm",
  clojure: "jvm",
  python: "python",
  go: "go",
  javascript: "javascript",
  node: "javascript",
  csharp: "csharp",
};

/** Sentry's and Raygun's platform names grouped into the families the rules are written for. */
export function platformFamily(platform: string | null | undefined): PlatformFamily {
  return (platform && FAMILIES[platform.toLowerCase()]) || "other";
}

const JVM_SYSTEM =
  /^(?:java|javax|jdk|sun|com\.sun|kotlin|kotlinx|android|androidx|com\.android|dalvik|libcore|org\.jetbrains|io\.sentry)\./;
const PACKAGE_CACHE = /(?:^|[/\\])(?:node_modules|site-packages|dist-packages)[/\\]/;
const PYTHON_STDLIB = /(?:^|[/\\])lib[/\\]python\d+(?:\.\d+)?[/\\]|^<frozen |^<string>$/;
const GO_MODULE_CACHE = /\/pkg\/mod\/|(?:^|\/)vendor\//;
const GO_ROOT = /(?:^|\/)go\/src\//;
const JS_SYSTEM =
  /^(?:node:|internal\/|<anonymous>$|\[native code\]$|(?:chrome|moz|safari(?:-web)?)-extension:)/;
const CSHARP_SYSTEM = /^(?:System|Microsoft|Mono)\./;
const OS_LIBRARY = /^\/usr\/(?:local\/)?lib\//;

function paths(frame: FrameLike): string[] {
  const out: string[] = [];
  if (frame.absPath) out.push(frame.absPath);
  if (frame.filename && frame.filename !== frame.absPath) out.push(frame.filename);
  return out;
}

function goStdlibModule(module: string): boolean {
  if (module === "main" || module.startsWith("main.")) return false;
  const first = module.split("/", 1)[0]!;
  return !first.includes(".");
}

/**
 * Whether a frame belongs to the runtime, the standard library or a third-party package by the
 * default rules of its platform. Linear in the frame's strings (anchored, non-nested patterns).
 *
 * @example isSystemFrame({ module: "java.lang.Integer", filename: "Integer.java" }, "java") // true
 */
export function isSystemFrame(frame: FrameLike, platform: string | null | undefined): boolean {
  const family = platformFamily(platform);
  const files = paths(frame);
  if (files.some((p) => PACKAGE_CACHE.test(p))) return true;
  const module = frame.module ?? null;
  switch (family) {
    case "jvm":
      return (module !== null && JVM_SYSTEM.test(module)) || files.includes("<generated>");
    case "python":
      return files.some((p) => PYTHON_STDLIB.test(p));
    case "go":
      // The module says more than the path: a GOPATH checkout also lives under …/go/src/.
      if (files.some((p) => GO_MODULE_CACHE.test(p))) return true;
      return module !== null ? goStdlibModule(module) : files.some((p) => GO_ROOT.test(p));
    case "javascript":
      return files.some((p) => JS_SYSTEM.test(p));
    case "csharp":
      return module !== null && CSHARP_SYSTEM.test(module);
    default:
      return files.some((p) => JS_SYSTEM.test(p) || PYTHON_STDLIB.test(p) || OS_LIBRARY.test(p));
  }
}

/**
 * The in-app flag of a frame: the SDK's own flag wins; otherwise the platform's rules mark system
 * frames; the rest is application code, unless the SDK flagged other frames of the same trace (then
 * it knows its application better than any rule, and an unflagged frame stays undecided).
 */
export function resolveInApp(
  frame: FrameLike,
  platform: string | null | undefined,
  sdkFlag: boolean | null,
  sdkFlagsOthers = false,
): boolean | null {
  if (sdkFlag !== null) return sdkFlag;
  if (!frame.filename && !frame.absPath && !frame.module) return null;
  if (isSystemFrame(frame, platform)) return false;
  return sdkFlagsOthers ? null : true;
}
