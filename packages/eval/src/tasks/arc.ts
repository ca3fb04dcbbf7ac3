/** `doc_to_text` of arc_challenge: "Question: {question}\nAnswer:". */
export function arcQuery(question: string): string {
  return `Question: ${question}\nAnswer:`;
}
