// A card's title row with the period links (24h / 14d / ...) that several pages share.
import type { Child } from "hono/jsx";

export function CardHeader(props: { title: Child; ranges: readonly string[]; current: string }) {
  return (
    <div class="actions" style="justify-content:space-between">
      <h2 style="margin:0">{props.title}</h2>
      <div class="filters">
        {props.ranges.map((r) => (
          <a class={r === props.current ? "on" : ""} href={`?range=${r}`}>
            {r}
          </a>
        ))}
      </div>
    </div>
  );
}
