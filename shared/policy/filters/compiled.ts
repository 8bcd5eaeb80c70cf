// Per-settings compilation of the user-written filter lists (IPs/CIDRs and globs). Settings
// objects come from the edge's isolate cache and are immutable, so their identity is the cache
// key: a settings change yields a new object and the old compiled form is garbage-collected.

import type { ProjectSettings } from "../../settings";
import { compileGlobs, type GlobSet } from "../glob";
import { compileIpSet, type IpSet } from "../ip";

export interface CompiledFilters {
  ips: IpSet;
  releases: GlobSet;
  errorMessages: GlobSet;
}

type FilterSettings = ProjectSettings["filters"];

const cache = new WeakMap<FilterSettings, CompiledFilters>();

/** Compiles (once per `settings.filters` object) the project's IP, release and message lists. */
export function compiledFilters(settings: ProjectSettings): CompiledFilters {
  const f = settings.filters;
  let c = cache.get(f);
  if (!c) {
    c = {
      ips: compileIpSet(f.ipAddresses),
      releases: compileGlobs(f.releases),
      errorMessages: compileGlobs(f.errorMessages),
    };
    cache.set(f, c);
  }
  return c;
}
