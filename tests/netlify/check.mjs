// Read a built site's Netlify configuration with Netlify's own code, and match request paths against
// its `_redirects` with Netlify's own redirect matcher. Prints one JSON object.
//   node check.mjs <repo> <site> [<file with a JSON list of request paths>]
import { createRequire } from "node:module";
import { readFile } from "node:fs/promises";
import path from "node:path";

import { resolveConfig } from "@netlify/config";
import { parseAllHeaders } from "@netlify/headers-parser";
import { parseAllRedirects } from "netlify-redirect-parser";

const require = createRequire(import.meta.url);
const redirector = require("netlify-redirector");

const [repo, site, pathsFile] = process.argv.slice(2);
const out = {};
const config = await resolveConfig({ config: path.join(repo, "netlify.toml"), cwd: repo, repositoryRoot: repo,
                                     offline: true, mode: "cli", buffer: true });
out.build = config.config.build;
out.configHeaders = config.config.headers;
out.edge_functions = config.config.edge_functions;
out.configRedirects = config.config.redirects;

const redirectsFile = path.join(site, "_redirects");
const parsed = await parseAllRedirects({ redirectsFiles: [redirectsFile], configRedirects: [], minimal: false });
out.redirects = parsed.redirects.length;
out.redirectErrors = parsed.errors.map(String);
out.redirectRules = parsed.redirects.map((r) => ({ from: r.from, to: r.to, status: r.status, force: r.force }));

const headers = await parseAllHeaders({ headersFiles: [path.join(site, "_headers")], minimal: false });
out.headers = headers.headers;
out.headerErrors = headers.errors.map(String);

if (pathsFile) {
  const text = await readFile(redirectsFile, "utf8").catch(() => "");
  const matcher = await redirector.parsePlain(text, {});
  const paths = JSON.parse(await readFile(pathsFile, "utf8"));
  out.matches = Object.fromEntries(paths.map((p) => {
    const rule = matcher.match({ scheme: "https", host: "example.org", path: p, query: "",
                                 getHeader: () => "", getCookie: () => "" });
    return [p, rule ? { to: rule.to, status: rule.status, force: rule.force } : null];
  }));
}
console.log(JSON.stringify(out));
