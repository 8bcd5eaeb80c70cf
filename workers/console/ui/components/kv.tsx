// Key/value tables and tag chips for event data (request headers, user, contexts, extra). Values
// of any shape are shown as text (objects as JSON), always escaped by the JSX renderer.
import type { FC } from "hono/jsx";
import { asText } from "../format";

export const KvTable: FC<{ data: Record<string, unknown> | null | undefined; empty?: string }> = ({
  data,
  empty,
}) => {
  const entries = Object.entries(data ?? {}).filter(([, v]) => v !== null && v !== undefined && v !== "");
  if (entries.length === 0) return <p class="muted small">{empty ?? "None."}</p>;
  return (
    <table class="kv">
      <tbody>
        {entries.map(([k, v]) => (
          <tr>
            <td>{k}</td>
            <td class={typeof v === "string" ? "" : "mono pre"}>{asText(v, true)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
};

export const Tags: FC<{ tags: Record<string, string> | null | undefined }> = ({ tags }) => {
  const entries = Object.entries(tags ?? {});
  if (entries.length === 0) return <p class="muted small">No tags.</p>;
  return (
    <div>
      {entries.map(([k, v]) => (
        <span class="tag">
          <span>{k}:</span> {asText(v)}
        </span>
      ))}
    </div>
  );
};
