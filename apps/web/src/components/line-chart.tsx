import { formatCount } from "../lib/format";

/**
 * A small server-rendered SVG line chart: no chart library shipped to the browser. Drawn twice, for wide screens
 * and for phones (the phone drawing has its own coordinate width, so its text stays ~11 px on a 390 px screen);
 * CSS shows one. Hovering anywhere over the plot shows the values at that x (an SVG title per x band), the legend
 * names each series, and points are marked only while a series has at most MAX_MARKED points.
 */
export interface Series {
  name: string;
  color: string;
  points: { x: number; y: number }[];
}

const MAX_MARKED = 50;
const MAX_BANDS = 120;

interface Layout {
  w: number;
  h: number;
  pad: { left: number; right: number; top: number; bottom: number };
  xTicks: number;
  yTicks: number;
}
const WIDE: Layout = { w: 720, h: 260, pad: { left: 56, right: 16, top: 14, bottom: 40 }, xTicks: 6, yTicks: 5 };
const NARROW: Layout = { w: 360, h: 240, pad: { left: 50, right: 12, top: 12, bottom: 40 }, xTicks: 3, yTicks: 4 };

function ticks(min: number, max: number, count: number): number[] {
  if (min === max) return [min];
  const raw = (max - min) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

interface ChartProps {
  series: Series[];
  xLabel: string;
  yLabel: string;
  yFormat?: (v: number) => string;
  /** how a hovered value reads (default: yFormat) */
  valueFormat?: (v: number) => string;
  title: string;
  /** x is a count (steps, cycles): no fractional ticks */
  integerX?: boolean;
  /** a fixed y range, e.g. [0, 100] for accuracy in percent */
  yDomain?: [number, number];
  /** the figure's id: a permalink target */
  id?: string;
}

function Drawing({
  layout: L,
  series,
  xLabel,
  yLabel,
  yFormat,
  valueFormat,
  title,
  integerX,
  yDomain,
  className,
}: Required<Omit<ChartProps, "id" | "yDomain">> & { layout: Layout; className: string; yDomain: [number, number] | undefined }) {
  const all = series.flatMap((s) => s.points);
  const xs = all.map((p) => p.x);
  const ys = all.map((p) => p.y);
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  const padY = (Math.max(...ys) - Math.min(...ys)) * 0.1 || Math.abs(ys[0] ?? 1) * 0.05 || 1;
  const [y0, y1] = yDomain ?? [Math.min(...ys) - padY, Math.max(...ys) + padY];
  const plotW = L.w - L.pad.left - L.pad.right;
  const sx = (x: number) => L.pad.left + ((x - x0) / (x1 - x0 || 1)) * plotW;
  const sy = (y: number) => L.h - L.pad.bottom - ((y - y0) / (y1 - y0 || 1)) * (L.h - L.pad.top - L.pad.bottom);
  const marked = series.every((s) => s.points.length <= MAX_MARKED);
  // Hover bands: one per distinct x (at most MAX_BANDS, evenly picked), each titled with every series' value there.
  const distinct = [...new Set(xs)].sort((a, b) => a - b);
  const every = Math.ceil(distinct.length / MAX_BANDS);
  const bandXs = distinct.filter((_, i) => i % every === 0);
  const edges = bandXs.map(
    (x, i) =>
      [i === 0 ? L.pad.left : (sx(bandXs[i - 1]!) + sx(x)) / 2, i === bandXs.length - 1 ? L.w - L.pad.right : (sx(x) + sx(bandXs[i + 1]!)) / 2] as const,
  );
  const valueAt = (s: Series, x: number) => s.points.find((p) => p.x === x);
  return (
    <svg className={className} viewBox={`0 0 ${L.w} ${L.h}`} role="img" aria-label={title}>
      <title>{title}</title>
      {ticks(y0, y1, L.yTicks).map((t) => (
        <g key={`y${t}`}>
          <line className="grid" x1={L.pad.left} x2={L.w - L.pad.right} y1={sy(t)} y2={sy(t)} />
          <text x={L.pad.left - 6} y={sy(t) + 4} textAnchor="end">
            {yFormat(t)}
          </text>
        </g>
      ))}
      {ticks(x0, x1, L.xTicks)
        .filter((t) => !integerX || Number.isInteger(t))
        .map((t) => (
          <text key={`x${t}`} x={sx(t)} y={L.h - L.pad.bottom + 16} textAnchor="middle">
            {formatCount(t)}
          </text>
        ))}
      <text x={L.pad.left + plotW / 2} y={L.h - 6} textAnchor="middle">
        {xLabel}
      </text>
      <text x={12} y={L.h / 2} textAnchor="middle" transform={`rotate(-90 12 ${L.h / 2})`}>
        {yLabel}
      </text>
      {series.map((s) => (
        <g key={s.name}>
          <polyline fill="none" stroke={s.color} strokeWidth={2} points={s.points.map((p) => `${sx(p.x)},${sy(p.y)}`).join(" ")} />
          {marked ? s.points.map((p) => <circle key={`${p.x}`} cx={sx(p.x)} cy={sy(p.y)} r={3} fill={s.color} />) : null}
        </g>
      ))}
      <g className="hover">
        {bandXs.map((x, i) => {
          const [a, b] = edges[i]!;
          const values = series.flatMap((s) => {
            const p = valueAt(s, x);
            return p ? [`${s.name}: ${valueFormat(p.y)}`] : [];
          });
          return (
            <rect key={x} x={a} y={L.pad.top} width={Math.max(b - a, 0.5)} height={L.h - L.pad.top - L.pad.bottom}>
              <title>{`${xLabel} ${formatCount(x)} · ${values.join(" · ")}`}</title>
            </rect>
          );
        })}
      </g>
    </svg>
  );
}

export function LineChart({ series, xLabel, yLabel, yFormat = (v: number) => String(v), valueFormat, title, integerX = false, yDomain, id }: ChartProps) {
  if (series.every((s) => s.points.length === 0)) return null;
  const common = { series, xLabel, yLabel, yFormat, valueFormat: valueFormat ?? yFormat, title, integerX, yDomain };
  return (
    <figure className="chart-figure" id={id}>
      <Drawing {...common} layout={WIDE} className="chart" />
      <Drawing {...common} layout={NARROW} className="chart-narrow" />
      <figcaption>
        <ul className="legend" aria-label={`Legend: ${title}`}>
          {series.map((s) => (
            <li key={s.name}>
              <span className="swatch" style={{ background: s.color }} />
              {s.name}
            </li>
          ))}
        </ul>
        {id ? (
          <a className="anchor" href={`#${id}`}>
            link to this chart
          </a>
        ) : null}
      </figcaption>
    </figure>
  );
}
