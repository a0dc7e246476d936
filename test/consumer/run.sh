#!/usr/bin/env bash
# The consumer test: the package as a user installs it. Builds, packs, lints the tarball (publint, attw), installs it
# into a fresh app with the README's Install lines, then with no TypeScript loader: the embedded default and the test
# environment from plain .mjs, `durable dev` (a .js entry served; a .ts entry asks for tsx), a CommonJS require, tsc --strict (skipLibCheck false) under nodenext and bundler, a
# plain-JavaScript CDK app synthesizing DurableTasks offline, and a plain esbuild bundle of a handler (size, contents).
# Prints the figures. Needs the npm registry (or its cache: --prefer-offline); no AWS credentials.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
fixtures="$repo/test/consumer/app"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
unset NODE_OPTIONS AWS_PROFILE AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN
export AWS_REGION=us-east-1 CDK_DISABLE_VERSION_CHECK=1
npm_i() { npm install --prefer-offline --no-audit --no-fund --loglevel=error "$@"; }
seconds() { node -e 'console.log(((Date.now() - Number(process.argv[1])) / 1000).toFixed(1))' "$1"; }
now() { node -e 'console.log(Date.now())'; }
step() { echo "--- consumer: $*"; }

cd "$repo"
step "build"
t=$(now); npm run --silent build; echo "build: $(seconds "$t") s"
step "pack"
pack_json="$(npm pack --silent --json --pack-destination "$work")"
tarball="$work/$(node -e 'console.log(JSON.parse(process.argv[1])[0].filename)' "$pack_json")"
node -e '
  const [p] = JSON.parse(process.argv[1]);
  const bad = p.files.map((f) => f.path).filter((f) => !/^(dist\/(sdk|infra|functions|cli)\/|bin\/durable\.js$|LICENSE$|README\.md$|package\.json$)/.test(f));
  if (bad.length) { console.error("unexpected files in the tarball:", bad); process.exit(1); }
  console.log(`tarball: ${(p.size / 1024).toFixed(1)} KiB packed, ${(p.unpackedSize / 1024).toFixed(1)} KiB unpacked, ${p.entryCount} files`);
' "$pack_json"
step "publint"
npx --no-install publint run --strict "$tarball"
step "attw (esm-only: the package ships ES modules only; CommonJS callers use require(esm), checked below)"
npx --no-install attw "$tarball" --profile esm-only --format table-flipped

app="$work/app"
mkdir -p "$app"
cp "$fixtures"/* "$app"/
cd "$app"
echo '{ "name": "consumer-app", "private": true, "type": "module" }' > package.json
step "npm install durable-tasks (the README's line)"
t=$(now); npm_i "$tarball"; echo "install: $(seconds "$t") s"
for absent in tsx esbuild aws-cdk-lib constructs typescript; do
  if [ -e "node_modules/$absent" ]; then echo "npm install durable-tasks installed $absent" >&2; exit 1; fi
done
node -e '
  const { execSync } = require("child_process");
  const kb = Number(execSync("du -sk node_modules").toString().split("\t")[0]);
  const count = require("fs").readFileSync("package-lock.json", "utf8") && Object.keys(require("./package-lock.json").packages).length - 1;
  console.log(`install size: ${(kb / 1024).toFixed(1)} MiB in node_modules, ${count} packages`);
'
step "plain Node, no loader"
timeout 120 node local.mjs
timeout 60 node testing.mjs
timeout 60 npx --no-install durable --version
timeout 120 node dev.mjs
step "bundle a handler with plain esbuild (the non-CDK path)"
npm_i -D esbuild
npx --no-install esbuild handler.mjs --bundle --platform=node --format=esm --minify --external:@aws-sdk/* \
  --metafile=meta.json --outfile=bundle.mjs --log-level=warning
node -e '
  const fs = require("fs");
  const bytes = fs.statSync("bundle.mjs").size;
  const inputs = Object.keys(JSON.parse(fs.readFileSync("meta.json", "utf8")).inputs);
  const text = fs.readFileSync("bundle.mjs", "utf8");
  const banned = inputs.filter((i) => /node_modules\/(dynalite|fauxqs|fastify|tsx|leveldown|levelup)\//.test(i));
  const named = ["dynalite", "fauxqs", "fastify", "tsx/esm"].filter((n) => text.includes(n));
  console.log(`plain bundle: ${(bytes / 1024).toFixed(1)} KiB minified (AWS SDK external), ${inputs.length} inputs`);
  if (!inputs.some((i) => i.includes("node_modules/durable-tasks/dist/sdk/"))) throw new Error("the bundle does not hold durable-tasks");
  if (banned.length || named.length) throw new Error(`the bundle carries ${[...banned, ...named].join(", ")}`);
  // The guard against the embedded default leaking in (it made a 1.3 MB bundle) is the input list above; the size
  // bound catches what that list does not name. Measured: 236 KiB with cron, 262 KiB once flow control (+14),
  // listing (+7), fan-out (+6) and tracing (+5) landed; cel-js (81) and croner (32) are the largest inputs.
  if (bytes > 320 * 1024) throw new Error(`the bundle is over 320 KiB`);
'
step "npm install -D aws-cdk-lib constructs esbuild (the README's line for the construct)"
npm_i -D aws-cdk-lib constructs esbuild
step "CommonJS: require('durable-tasks'), '/testing' and '/infra'"
timeout 60 node require.cjs
step "CDK app in plain JavaScript: synth offline"
t=$(now); timeout 300 node cdk-app.mjs "$work/cdk.out"; echo "cdk synth: $(seconds "$t") s"
step "tsc --strict, skipLibCheck false"
npm_i -D typescript@5.9 @types/node@22
# Not `tsc ... && echo`: `set -e` ignores a failure on the left of `&&`, and a type error passed unseen that way.
npx --no-install tsc -p tsconfig.nodenext.json
echo "tsc nodenext: 0 errors"
npx --no-install tsc -p tsconfig.bundler.json
echo "tsc bundler: 0 errors"
step "passed"
