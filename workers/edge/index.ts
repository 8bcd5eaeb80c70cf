// Edge worker entry: the handler table. Duplicate slashes are folded before routing, as Relay does.
import { app } from "./app";

export { QuotaCounter } from "./quota-counter";

export default {
  fetch(request, env, ctx) {
    const url = request.url;
    const pathStart = url.indexOf("/", url.indexOf("//") + 2);
    if (pathStart > 0 && url.indexOf("//", pathStart) >= 0) {
      const u = new URL(url);
      u.pathname = u.pathname.replace(/\/{2,}/g, "/");
      request = new Request(u, request);
    }
    return app.fetch(request, env, ctx);
  },
} satisfies ExportedHandler<EdgeEnv>;
