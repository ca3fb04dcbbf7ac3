import { defineConfig } from "vitest/config";

// Each test spawns the CLI as a user would (node + tsx start-up), which takes seconds on a busy machine.
export default defineConfig({ test: { testTimeout: 60_000 } });
