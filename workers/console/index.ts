export default {
  async fetch() { return new Response("ok"); },
  async queue() {},
} satisfies ExportedHandler;
