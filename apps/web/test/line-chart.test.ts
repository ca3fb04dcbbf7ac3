import { createElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import { LineChart, type Series } from "../src/components/line-chart.tsx";

const series = (name: string, n: number, y = (i: number) => i): Series => ({
  name,
  color: "red",
  points: Array.from({ length: n }, (_, i) => ({ x: i, y: y(i) })),
});
const render = (props: Parameters<typeof LineChart>[0]) => renderToStaticMarkup(createElement(LineChart, props));
const count = (html: string, re: RegExp) => (html.match(re) ?? []).length;

describe("LineChart", () => {
  it("marks points only while every series has at most 50, and names each series in the legend", () => {
    const few = render({ series: [series("A", 50), series("B", 10)], xLabel: "step", yLabel: "loss", title: "t" });
    expect(count(few, /<circle/g)).toBe(2 * 60); // both drawings
    expect(few).toContain('<li><span class="swatch" style="background:red"></span>A</li>');
    const many = render({ series: [series("A", 51), series("B", 10)], xLabel: "step", yLabel: "loss", title: "t" });
    expect(count(many, /<circle/g)).toBe(0);
  });

  it("titles one hover band per x (at most 120 per drawing) with every series' value there", () => {
    const html = render({
      series: [series("A", 500, (i) => i / 10), series("B", 500, (i) => i / 5)],
      xLabel: "step",
      yLabel: "loss",
      title: "t",
      valueFormat: (v) => v.toFixed(1),
    });
    const bands = count(html, /<rect /g) / 2;
    expect(bands).toBeLessThanOrEqual(120);
    expect(bands).toBeGreaterThan(90);
    expect(html).toContain("<title>step 0 · A: 0.0 · B: 0.0</title>");
  });

  it("holds a fixed y range when given (accuracy from 0 to 100%)", () => {
    const html = render({ series: [series("A", 3, (i) => 40 + i)], xLabel: "step", yLabel: "%", title: "t", yDomain: [0, 100], yFormat: (v) => `${v}%` });
    expect(html).toContain(">0%</text>");
    expect(html).toContain(">100%</text>");
  });
});
