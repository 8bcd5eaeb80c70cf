// Only in the second build: code before the bug moves every line and column of the bundle, and
// renames its minified identifiers.
export function renderBanner(text) {
  const el = { text: String(text).toUpperCase(), shown: Date.now() };
  return [el, el.text.length, el.text.split("").reverse().join("")];
}
globalThis.banner = renderBanner("welcome back");
