// Console worker entry: the handler table.
import { app } from "./app";

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<ConsoleEnv>;
