import { defineConfig } from 'drizzle-kit';

// Only used by `npm run db:generate`; the app applies the generated SQL itself on start.
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/adapters/db/schema.ts',
  out: './drizzle',
});
