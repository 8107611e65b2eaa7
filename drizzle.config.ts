import { defineConfig } from "drizzle-kit";

// Migrations are generated once from the schema and applied on start by both drivers.
export default defineConfig({
  dialect: "postgresql",
  schema: "./db/schema.ts",
  out: "./db/migrations",
});
