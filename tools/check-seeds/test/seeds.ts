// What the tests compare against: the committed facts, and the real seeds when they are present.
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { SeedEndpoint } from "../seeds.ts";

export const fixtures = resolve(import.meta.dirname, "fixtures");
export const facts: SeedEndpoint[] = JSON.parse(
  readFileSync(resolve(fixtures, "seed-facts.json"), "utf8"),
).endpoints;

/** The seed folder the CLI would use; undefined (tests skip) when it is absent. */
export const seedsDir = ((dir) => (existsSync(dir) ? dir : undefined))(
  resolve(process.env.VBAPI_SEEDS_DIR ?? resolve(import.meta.dirname, "../../../../shared/seeds")),
);
/** A test title that says why the test is skipped when the seeds are absent. */
export const withSeeds = (title: string) =>
  seedsDir ? title : `${title} (skipped: no seed folder beside this clone, nor VBAPI_SEEDS_DIR)`;
