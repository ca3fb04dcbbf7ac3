export * from "./messages.ts";
export * from "./eval-messages.ts";
export * from "./packed.ts";
export * from "./launch.ts";
