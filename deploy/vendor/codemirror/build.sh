#!/bin/sh
# Rebuilds static/extensions/codemirror.js from the npm registry (exact versions in package.json).
# Run by hand when upgrading CodeMirror; the built file is committed, so Hub needs no Node.
set -e
cd "$(dirname "$0")"
npm ci --no-audit --no-fund
npx esbuild editor.mjs --bundle --minify --format=iife --global-name=HubEditor \
  --outfile=../../../static/extensions/codemirror.js --legal-comments=eof
