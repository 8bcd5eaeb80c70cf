// Charts as inline SVG rendered on the server: a sparkline for group rows and a (stacked) bar chart
// over time with axis labels and per-bar tooltips. No client code, so they work offline and in print.
import type { FC } from "hono/jsx";
import { bucketLabel, fmtNum } from "../format";

/** Rounds up to 1, 2 or 5 × 10^k so the axis label reads well. */
export function niceMax(n: number): number {
  if (n <= 1) return 1;
  const p = 10 ** Math.floor(Math.log10(n));
  for (const m of [1, 2, 5, 10]) if (m * p >= n) return m * p;
  return 10 * p;
}

export const Sparkline: FC<{ values: number[]; label: string }> = ({ values, label }) => {
  const w = 120;
  const h = 28;
  const max = Math.max(1, ...values);
  const bw = w / Math.max(1, values.length);
  return (
    <svg width={w} height={h} viewBox={`0 0 ${w} ${h}`} role="img" aria-label={label}>
      <title>{label}</title>
      <line x1="0" y1={h - 0.5} x2={w} y2={h - 0.5} stroke="#e4e7ec" />
      {values.map((v, i) =>
        v > 0 ? (
          <rect
            x={(i * bw + 1).toFixed(1)}
            width={Math.max(1, bw - 2).toFixed(1)}
            y={(h - 1 - Math.max(2, (v / max) * (h - 2))).toFixed(1)}
            height={Math.max(2, (v / max) * (h - 2)).toFixed(1)}
            rx="1"
            fill="#6366f1"
          />
        ) : null,
      )}
    </svg>
  );
};

export interface Series {
  label: string;
  color: string;
  values: number[];
}

/** Bars per time bucket, series stacked bottom-up; `times` are ISO bucket starts. */
export const StackedBarChart: FC<{ times: string[]; series: Series[]; stepMs: number; height?: number }> = ({
  times,
  series,
  stepMs,
  height = 180,
}) => {
  const W = 860;
  const H = height;
  const left = 44;
  const bottom = 22;
  const top = 8;
  const plotW = W - left - 8;
  const plotH = H - bottom - top;
  const totals = times.map((_, i) => series.reduce((s, x) => s + (x.values[i] ?? 0), 0));
  const max = niceMax(Math.max(0, ...totals));
  const bw = plotW / Math.max(1, times.length);
  const y = (v: number) => top + plotH - (v / max) * plotH;
  const labelEvery = Math.max(1, Math.ceil(times.length / 8));
  return (
    <svg width="100%" viewBox={`0 0 ${W} ${H}`} role="img" aria-label="chart" class="chart">
      {[0, 0.5, 1].map((f) => (
        <>
          <line x1={left} x2={W - 8} y1={y(max * f)} y2={y(max * f)} stroke="#eef0f3" />
          <text x={left - 6} y={y(max * f) + 4} text-anchor="end" font-size="11" fill="#667085">
            {fmtNum(max * f)}
          </text>
        </>
      ))}
      {times.map((t, i) => {
        let acc = 0;
        const x = left + i * bw + Math.min(2, bw * 0.15);
        const w = Math.max(1, bw - 2 * Math.min(2, bw * 0.15));
        const tip = `${bucketLabel(t, stepMs)} ${new Date(t).toISOString().slice(0, 10)}: ${
          series
            .filter((s) => (s.values[i] ?? 0) > 0)
            .map((s) => `${s.label} ${s.values[i]}`)
            .join(", ") || "none"
        }`;
        return (
          <g>
            <title>{tip}</title>
            <rect x={x} y={top} width={w} height={plotH} fill="transparent" />
            {series.map((s) => {
              const v = s.values[i] ?? 0;
              if (v <= 0) return null;
              const y0 = y(acc);
              acc += v;
              const y1 = y(acc);
              return <rect x={x} y={y1} width={w} height={Math.max(1, y0 - y1)} fill={s.color} />;
            })}
            {i % labelEvery === 0 ? (
              <text x={x + w / 2} y={H - 6} text-anchor="middle" font-size="11" fill="#667085">
                {bucketLabel(t, stepMs)}
              </text>
            ) : null}
          </g>
        );
      })}
    </svg>
  );
};

export const Legend: FC<{ series: Series[] }> = ({ series }) => (
  <div class="legend">
    {series.map((s) => (
      <span>
        <i style={`background:${s.color}`} />
        {s.label} ({fmtNum(s.values.reduce((a, b) => a + b, 0))})
      </span>
    ))}
  </div>
);
