/** Each top-level section's HTML as the server last sent it, by id, so a live refresh replaces only what changed. */
export const servedSections = new Map<string, string>();

export function pageSections(doc: ParentNode): HTMLElement[] {
  return [...doc.querySelectorAll<HTMLElement>("main > section[id]")];
}

/** Called before hydration, while the DOM is still exactly the server's HTML. */
export function recordServedSections(doc: ParentNode): void {
  for (const s of pageSections(doc)) servedSections.set(s.id, s.outerHTML);
}
