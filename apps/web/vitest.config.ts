import { defineConfig } from "vitest/config";

export default defineConfig({
  // tsconfig keeps JSX for Next (preserve); component tests need it compiled.
  oxc: { jsx: { runtime: "automatic" } },
  test: { include: ["test/**/*.test.ts"], testTimeout: 120_000, hookTimeout: 180_000 },
});
