// Validate a built site's Netlify configuration with Netlify's own parsers, and compute shard paths
// with the edge function's own code. Prints one JSON object.
//   node check.mjs <repo> <site> <path>...
import { resolveConfig } from "@netlify/config";
import { parseAllRedirects } from "netlify-redirect-parser";
import path from "node:path";
import { pathToFileURL } from "node:url";

const [repo, site, ...paths] = process.argv.slice(2);
const out = {};
const config = await resolveConfig({ config: path.join(repo, "netlify.toml"), cwd: repo, repositoryRoot: repo,
                                     offline: true, mode: "cli", buffer: true });
out.build = config.config.build;
out.headers = config.config.headers;
out.edge_functions = config.config.edge_functions;
out.configRedirects = config.config.redirects;
const parsed = await parseAllRedirects({ redirectsFiles: [path.join(site, "_redirects")], configRedirects: [],
                                        minimal: false });
out.redirects = parsed.redirects.length;
out.redirectErrors = parsed.errors.map(String);
out.redirectSample = parsed.redirects.slice(0, 2);
const shards = await import(pathToFileURL(path.join(repo, "netlify/edge-functions/shards.js")).href);
out.shards = Object.fromEntries(paths.map((p) => [p, shards.shardPath(p)]));
console.log(JSON.stringify(out));
