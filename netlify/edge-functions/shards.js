// Serves the catalogue's flat public URLs from the folders the generator spreads files over.
//
// Netlify refuses a published folder with more than 54,000 files, and the catalogue has about
// 100,000 figures and 150,000 genes. site_gen writes `/figures/<name>` to
// `figures/_/<shard>/<name>`, where <shard> is the low byte of the CRC-32 of the file name, in two hex
// digits (site_gen/index.py, `shard_of`). This function computes the same shard and rewrites the
// request, so `/figures/<figid>.html`, `/figures/<alias>` and `/organisms/<name>.html` keep working.

const SECTIONS = new Set(["figures", "genes", "chemicals", "diseases", "organisms", "data"]);
const KNOWN_SUFFIXES = [".html", ".xml", ".txt", ".json", ".tsv", ".jsonl", ".gmt"];

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

export function crc32(bytes) {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

// The file that answers a public path, or null when the path is not in a sharded section.
export function shardPath(pathname) {
  const match = /^\/([a-z]+)\/([^/]+)$/.exec(pathname);
  if (!match || !SECTIONS.has(match[1])) return null;
  let name;
  try {
    name = decodeURIComponent(match[2]);
  } catch {
    return null;
  }
  if (name.includes("/") || name.includes("\\") || name.includes("\0")) return null;
  if (!KNOWN_SUFFIXES.some((suffix) => name.endsWith(suffix))) name += ".html";
  if (name === "index.html" || /^page-\d+\.html$/.test(name)) return null;
  const shard = (crc32(new TextEncoder().encode(name)) & 0xff).toString(16).padStart(2, "0");
  return `/${match[1]}/_/${shard}/${encodeURIComponent(name)}`;
}

export default async (request) => {
  const url = new URL(request.url);
  const target = shardPath(url.pathname);
  if (target === null) return; // not ours: Netlify serves the request as usual
  return new URL(target + url.search, url); // a URL rewrites the request to that file
};
