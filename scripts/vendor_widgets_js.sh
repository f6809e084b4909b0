#!/usr/bin/env bash
# Re-vendor the JavaScript that renders ipywidgets on the static site.
# Usage: scripts/vendor_widgets_js.sh   (needs npm and access to the npm registry)
# The versions below are the ones documented in book/_static/vendor/README.md;
# html-manager 1.x is the line that matches ipywidgets 8.
set -euo pipefail

HTML_MANAGER_VERSION="1.0.15"
REQUIREJS_VERSION="2.3.8"

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="${repo_root}/book/_static/vendor"
work="$(mktemp -d)"
trap 'rm -rf "${work}"' EXIT

cd "${work}"
npm pack --silent "@jupyter-widgets/html-manager@${HTML_MANAGER_VERSION}" "requirejs@${REQUIREJS_VERSION}" >/dev/null
mkdir html-manager requirejs
tar xzf "jupyter-widgets-html-manager-${HTML_MANAGER_VERSION}.tgz" -C html-manager
tar xzf "requirejs-${REQUIREJS_VERSION}.tgz" -C requirejs

mkdir -p "${dest}"
cp html-manager/package/dist/embed-amd.js "${dest}/embed-amd.js"
cp html-manager/package/dist/embed.js.LICENSE.txt "${dest}/THIRD-PARTY-NOTICES-html-manager.txt"
cp requirejs/package/require.js "${dest}/require.js"
# Font files of the bundle, where embed-amd.js looks for them once widgets-config.js
# has set RequireJS's baseUrl to vendor/amd/ (woff2/woff/ttf; eot and svg are legacy).
fonts="${dest}/amd/@jupyter-widgets/html-manager/dist"
rm -rf "${fonts}" && mkdir -p "${fonts}"
cp html-manager/package/dist/*.woff2 html-manager/package/dist/*.woff html-manager/package/dist/*.ttf "${fonts}/"
echo "Vendored html-manager ${HTML_MANAGER_VERSION} and requirejs ${REQUIREJS_VERSION} into ${dest}"
sha256sum "${dest}"/*.js
