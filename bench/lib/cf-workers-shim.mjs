// `cloudflare:workers` for the Node bundle of the bench: only what the edge's QuotaCounter needs
// (a DurableObject base class holding ctx and env), so the real class runs in-process.
export class DurableObject {
  constructor(ctx, env) {
    this.ctx = ctx;
    this.env = env;
  }
}
