/** A small server-rendered SVG line chart: no chart library shipped to the browser. */
export interface Series {
  name: string;
  color: string;
  points: { x: number; y: number }[];
}

const W = 720;
const H = 260;
const PAD = { left: 52, right: 16, top: 14, bottom: 40 };

function ticks(min: number, max: number, count: number): number[] {
  if (min === max) return [min];
  const raw = (max - min) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

export function LineChart({ series, xLabel, yLabel, yFormat = (v: number) => String(v), title, integerX = false }: {
  series: Series[];
  xLabel: string;
  yLabel: string;
  yFormat?: (v: number) => string;
  title: string;
  /** x is a count (steps): no fractional ticks */
  integerX?: boolean;
}) {
  const all = series.flatMap((s) => s.points);
  if (all.length === 0) return null;
  const xs = all.map((p) => p.x);
  const ys = all.map((p) => p.y);
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  const padY = (Math.max(...ys) - Math.min(...ys)) * 0.1 || Math.abs(ys[0] ?? 1) * 0.05 || 1;
  const [y0, y1] = [Math.min(...ys) - padY, Math.max(...ys) + padY];
  const sx = (x: number) => PAD.left + ((x - x0) / (x1 - x0 || 1)) * (W - PAD.left - PAD.right);
  const sy = (y: number) => H - PAD.bottom - ((y - y0) / (y1 - y0)) * (H - PAD.top - PAD.bottom);
  return (
    <svg className="chart" viewBox={`0 0 ${W} ${H}`} role="img" aria-label={title}>
      <title>{title}</title>
      {ticks(y0, y1, 5).map((t) => (
        <g key={`y${t}`}>
          <line className="grid" x1={PAD.left} x2={W - PAD.right} y1={sy(t)} y2={sy(t)} />
          <text x={PAD.left - 6} y={sy(t) + 4} textAnchor="end">{yFormat(t)}</text>
        </g>
      ))}
      {ticks(x0, x1, 6).filter((t) => !integerX || Number.isInteger(t)).map((t) => (
        <text key={`x${t}`} x={sx(t)} y={H - PAD.bottom + 16} textAnchor="middle">{t.toLocaleString("en-US")}</text>
      ))}
      <text x={(W + PAD.left) / 2} y={H - 6} textAnchor="middle">{xLabel}</text>
      <text x={12} y={H / 2} textAnchor="middle" transform={`rotate(-90 12 ${H / 2})`}>{yLabel}</text>
      {series.map((s) => (
        <g key={s.name}>
          <polyline fill="none" stroke={s.color} strokeWidth={2} points={s.points.map((p) => `${sx(p.x)},${sy(p.y)}`).join(" ")} />
          {s.points.map((p) => (
            <circle key={`${p.x}`} cx={sx(p.x)} cy={sy(p.y)} r={3} fill={s.color} />
          ))}
        </g>
      ))}
    </svg>
  );
}
