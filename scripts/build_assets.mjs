// Bundles the browser assets into app/static/dist/ (git-ignored):
//   frontend/<name>.js        -> app/static/dist/<name>.js   (every top-level file is an entry;
//                                 helpers live in sub-folders such as frontend/modeler/)
//   bpmn-js's stylesheets     -> app/static/dist/diagram-js.css, bpmn-js.css
//   the BPMN icon font        -> app/static/dist/bpmn-font/{css,font}/ (relative urls kept)
// Needs only node_modules/ (npm ci); no network. Run through `make assets` or `npm run build`.
import { build } from "esbuild";
import { cpSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const sourceDir = join(root, "frontend");
const outDir = join(root, "app", "static", "dist");
const assets = join(root, "node_modules", "bpmn-js", "dist", "assets");

// What bpmn-js's pages need besides the bundle, by path under bpmn-js/dist/assets/.
const COPIED = [
  "diagram-js.css",
  "bpmn-js.css",
  "bpmn-font/css/bpmn.css",
  "bpmn-font/font",
];

function fail(message) {
  console.error(`build_assets: ERROR: ${message}`);
  process.exit(1);
}

if (!existsSync(assets)) {
  fail("node_modules/bpmn-js is missing; run `npm ci` (or `make assets`) first");
}

const entries = existsSync(sourceDir)
  ? readdirSync(sourceDir, { withFileTypes: true })
      .filter((entry) => entry.isFile() && entry.name.endsWith(".js"))
      .map((entry) => join(sourceDir, entry.name))
      .sort()
  : [];
if (entries.length === 0) {
  fail("no entry files frontend/*.js to bundle");
}

// Build into a fresh sibling folder and swap it in, so a running server never serves a
// half-written bundle and files of removed entries do not linger.
const staging = `${outDir}.tmp-${process.pid}`;
rmSync(staging, { recursive: true, force: true });
mkdirSync(staging, { recursive: true });

try {
  await build({
    entryPoints: entries,
    outdir: staging,
    bundle: true,
    minify: true,
    format: "iife",
    target: ["es2020"],
    legalComments: "eof",
    logLevel: "warning",
  });
  for (const path of COPIED) {
    cpSync(join(assets, path), join(staging, path), { recursive: true });
  }
} catch (error) {
  rmSync(staging, { recursive: true, force: true });
  fail(error.message || String(error));
}

rmSync(outDir, { recursive: true, force: true });
renameSync(staging, outDir);
const names = entries.map((path) => path.slice(sourceDir.length + 1)).join(", ");
console.log(`build_assets: bundled ${names} and bpmn-js's styles into app/static/dist/`);
