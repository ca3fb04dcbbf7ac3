import { type ComponentProps, type ComponentType, createElement } from "react";
import { type IslandName, islands } from "../islands/registry";

/**
 * Renders one of the registered components on the server inside an element that names it and carries its props,
 * so the browser hydrates just that element (src/islands/client.tsx). Props are plain JSON: figures travel as
 * FigureRefs (their provenance is fetched on opening), which keeps zod and the figure wire format out of the page's script. `as`: "span" inside text, "div" around blocks.
 * In `next dev` the whole page hydrates instead, with the same components.
 */
export function Island<N extends IslandName>({ name, props, as: Tag = "span" }: { name: N; props: ComponentProps<(typeof islands)[N]>; as?: "span" | "div" }) {
  return (
    <Tag data-island={name} data-props={JSON.stringify(props)}>
      {createElement(islands[name] as ComponentType<object>, props as object)}
    </Tag>
  );
}
