// `pnpm release:dry`: everything `pnpm release` does, on a throwaway git worktree of HEAD, with
// `pnpm publish --dry-run`: shows the versions and changelogs the pending changesets produce and
// the tarballs that would be published. Needs no registry credentials and changes nothing here.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const root = resolve(import.meta.dirname, "../..");
const tree = join(mkdtempSync(join(tmpdir(), "vbapi-release-")), "repo");
const run = (cmd, args, cwd = tree) => {
  console.log(`$ ${cmd} ${args.join(" ")}`);
  execFileSync(cmd, args, {
    cwd,
    stdio: "inherit",
    env: { ...process.env, TURBO_TELEMETRY_DISABLED: "1" },
  });
};

run("git", ["worktree", "add", "--detach", tree, "HEAD"], root);
try {
  run("pnpm", ["install", "--frozen-lockfile", "--prefer-offline"]);
  run("pnpm", ["changeset", "version"]);
  run("pnpm", ["install", "--no-frozen-lockfile", "--prefer-offline"]);
  run("pnpm", ["build"]);
  run("pnpm", [
    "-r",
    "--filter",
    "./packages/*",
    "publish",
    "--dry-run",
    "--no-git-checks",
    "--access",
    "public",
  ]);
  console.log("\nVersions after `changeset version`:");
  for (const name of readdirSync(join(tree, "packages"))) {
    const pkg = JSON.parse(readFileSync(join(tree, "packages", name, "package.json"), "utf8"));
    const log = join(tree, "packages", name, "CHANGELOG.md");
    const head = existsSync(log)
      ? readFileSync(log, "utf8").split("\n").slice(0, 12).join("\n")
      : "(no changelog)";
    console.log(`\n## ${pkg.name}@${pkg.version}\n${head}`);
  }
} finally {
  run("git", ["worktree", "remove", "--force", tree], root);
  rmSync(resolve(tree, ".."), { recursive: true, force: true });
}
