// drizzle-kit: `npm run db:generate` writes flat SQL migrations into migrations/ (applied by wrangler).
import { defineConfig } from "drizzle-kit";

export default defineConfig({
  dialect: "sqlite",
  schema: "./shared/db/schema.ts",
  out: "./migrations",
});
