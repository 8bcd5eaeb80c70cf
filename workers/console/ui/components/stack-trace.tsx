// Exceptions with their stack traces, most recent call first: the frame that raised on top, the
// project's own (in-app) frames highlighted, library frames dimmed and long runs of them folded.
import type { FC } from "hono/jsx";
import type { ExceptionInfo, StackFrame } from "../../../../shared/event";
import { FrameSource, FrameWhere, hasSymbolication, MinifiedToggle } from "./source-frame";

function where(f: StackFrame): string {
  const file = f.filename ?? f.absPath ?? f.module ?? "?";
  return `${file}${f.lineno != null ? `:${f.lineno}` : ""}${f.colno != null ? `:${f.colno}` : ""}`;
}

const frameClass = (f: StackFrame) => (f.inApp === true ? "app" : f.inApp === false ? "lib" : "unk");

const Frame: FC<{ frame: StackFrame; top: boolean }> = ({ frame, top }) => (
  <div class={`frame ${frameClass(frame)}${top ? " top" : ""}`} data-in-app={String(frame.inApp)}>
    <FrameWhere frame={frame} where={where(frame)} />
    {top ? <span class="badge b-active small"> raised here</span> : null}
    {frame.contextLine && !frame.minified ? <code class="ctx">{frame.contextLine}</code> : null}
    <FrameSource frame={frame} />
  </div>
);

/** Frames callee-first, with runs of 3+ library frames folded into a <details>. */
const Frames: FC<{ frames: StackFrame[] }> = ({ frames }) => {
  const shown = [...frames].reverse();
  const out = [];
  for (let i = 0; i < shown.length; ) {
    let j = i;
    while (j < shown.length && shown[j]!.inApp === false && j !== 0) j++;
    if (j - i >= 3) {
      out.push(
        <details>
          <summary class="frame lib">{`${j - i} library frames`}</summary>
          {shown.slice(i, j).map((f) => (
            <Frame frame={f} top={false} />
          ))}
        </details>,
      );
      i = j;
    } else {
      out.push(<Frame frame={shown[i]!} top={i === 0} />);
      i++;
    }
  }
  return <div class="frames">{out}</div>;
};

export const Exceptions: FC<{ exceptions: ExceptionInfo[]; fallbackMessage?: string | undefined }> = ({
  exceptions,
  fallbackMessage,
}) => {
  if (exceptions.length === 0)
    return <p class="muted">No exception in this event{fallbackMessage ? `: ${fallbackMessage}` : "."}</p>;
  const ordered = [...exceptions].reverse();
  return (
    <div class="stack-trace">
      {ordered.map((ex, i) => (
        <div style={i > 0 ? "margin-top:18px" : ""}>
          {i > 0 ? <div class="muted small">Caused by / chained exception</div> : null}
          <div class="exc-head">
            <b>{ex.type ?? "Error"}</b>
            {ex.value ? `: ${ex.value}` : ""}
            {ex.mechanism?.handled === false ? <span class="badge l-fatal small"> unhandled</span> : null}
          </div>
          {ex.frames.length > 0 ? (
            <>
              <div class="muted small" style="margin-bottom:6px">
                Most recent call first · <span style="color:#4f46e5">■</span> your code ·{" "}
                <span style="color:#98a2b3">■</span> libraries
              </div>
              {hasSymbolication([ex]) ? <MinifiedToggle id={`minified-${i}`} /> : null}
              <Frames frames={ex.frames} />
            </>
          ) : (
            <p class="muted small">No stack trace was sent.</p>
          )}
        </div>
      ))}
    </div>
  );
};
