// The source-map side of a stack frame (shared/sourcemaps): the original source around a mapped
// frame with its line numbers, the minified location it came from, or why it could not be mapped.
// The minified view is a CSS toggle (no script): a checkbox above the frames swaps .orig for .min.
import type { FC } from "hono/jsx";
import type { ExceptionInfo, StackFrame } from "../../../../shared/event";

const at = (f: { filename: string | null; lineno: number | null; colno: number | null }) =>
  `${f.filename ?? "?"}${f.lineno != null ? `:${f.lineno}` : ""}${f.colno != null ? `:${f.colno}` : ""}`;

/** Whether any frame of these exceptions was mapped or failed to map. */
export const hasSymbolication = (exceptions: ExceptionInfo[]) =>
  exceptions.some((e) => e.frames.some((f) => f.minified || f.unmapped));

/** "Show minified frames" switch; the frames that follow it in the same parent react to it. */
export const MinifiedToggle: FC<{ id: string }> = ({ id }) => (
  <>
    <input type="checkbox" class="min-toggle" id={id} />
    <label for={id} class="small muted min-label">
      Show minified frames
    </label>
  </>
);

/** Source lines around a mapped frame, numbered, the frame's own line highlighted. */
const SourceContext: FC<{ frame: StackFrame }> = ({ frame }) => {
  if (!frame.contextLine || frame.lineno == null) return null;
  const pre = frame.preContext ?? [];
  const post = frame.postContext ?? [];
  const first = frame.lineno - pre.length;
  const lines = [...pre, frame.contextLine, ...post];
  return (
    <pre class="src orig">
      {lines.map((text, i) => (
        <span class={first + i === frame.lineno ? "src-line hit" : "src-line"}>
          <span class="src-no">{first + i}</span>
          {text}
          {"\n"}
        </span>
      ))}
    </pre>
  );
};

/** What a frame gained or lacks from source maps, shown under its location. */
export const FrameSource: FC<{ frame: StackFrame }> = ({ frame }) => (
  <>
    {frame.minified ? (
      <>
        <SourceContext frame={frame} />
        <span class="min small">
          minified: {frame.minified.function ?? "<anonymous>"} at {at(frame.minified)}
        </span>
      </>
    ) : null}
    {frame.unmapped ? (
      <span class="small unmapped" title="Upload a source map for this file to see the original source">
        not mapped: {frame.unmapped}
      </span>
    ) : null}
  </>
);

/** The frame's location line: original by default, minified when the toggle is on. */
export const FrameWhere: FC<{ frame: StackFrame; where: string }> = ({ frame, where }) =>
  frame.minified ? (
    <>
      <span class="orig">
        <span class="fn">{frame.function ?? "<anonymous>"}</span> <span class="muted">at</span> {where}
      </span>
      <span class="min">
        <span class="fn">{frame.minified.function ?? "<anonymous>"}</span> <span class="muted">at</span>{" "}
        {at(frame.minified)}
      </span>
    </>
  ) : (
    <>
      <span class="fn">{frame.function ?? "<anonymous>"}</span> <span class="muted">at</span> {where}
    </>
  );

/** Styles of the above (appended to the dashboard's stylesheet). */
export const SOURCE_FRAME_CSS = `
.src{margin:6px 0 2px;padding:4px 0;background:#f8f9fc;border:1px solid var(--line);border-radius:6px;overflow-x:auto;font-size:12px;line-height:1.5}
.src-line{display:block;padding:0 10px;white-space:pre}.src-line.hit{background:#fff4d6;font-weight:600}
.src-no{display:inline-block;width:3.5em;color:#98a2b3;user-select:none}
.unmapped{display:block;color:#b54708;margin-top:2px}.frame .min{display:none}.frame span.min.small{color:#667085}
.min-toggle{margin:0 4px 6px 0}.min-label{cursor:pointer}
.min-toggle:checked~.frames .orig,.min-toggle:checked~.frames pre.orig{display:none}
.min-toggle:checked~.frames .min{display:inline}.min-toggle:not(:checked)~.frames span.min.small{display:block}
`;
