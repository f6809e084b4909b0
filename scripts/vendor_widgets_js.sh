#!/usr/bin/env bash
# Re-vendor the JavaScript the static site needs offline: RequireJS and the ipywidgets
# embed bundle (html-manager 1.x, the line that matches ipywidgets 8) with its fonts,
# and MathJax 3. See book/_static/vendor/README.md; license files are kept by hand.
# Usage: scripts/vendor_widgets_js.sh   (needs npm and access to the npm registry)
set -euo pipefail

HTML_MANAGER_VERSION="1.0.15"
REQUIREJS_VERSION="2.3.8"
MATHJAX_VERSION="3.2.2"

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="${repo_root}/book/_static/vendor"
work="$(mktemp -d)"
trap 'rm -rf "${work}"' EXIT

cd "${work}"
npm pack --silent "@jupyter-widgets/html-manager@${HTML_MANAGER_VERSION}" \
  "requirejs@${REQUIREJS_VERSION}" "mathjax@${MATHJAX_VERSION}" >/dev/null
mkdir html-manager requirejs mathjax
tar xzf "jupyter-widgets-html-manager-${HTML_MANAGER_VERSION}.tgz" -C html-manager
tar xzf "requirejs-${REQUIREJS_VERSION}.tgz" -C requirejs
tar xzf "mathjax-${MATHJAX_VERSION}.tgz" -C mathjax

mkdir -p "${dest}"
cp html-manager/package/dist/embed-amd.js "${dest}/embed-amd.js"
cp html-manager/package/dist/embed.js.LICENSE.txt "${dest}/THIRD-PARTY-NOTICES-html-manager.txt"
cp requirejs/package/require.js "${dest}/require.js"

# Font files of the bundle, where its modules look for them once widgets-config.js has
# pointed RequireJS at vendor/amd/ (woff2/woff/ttf; eot and svg are legacy).
fonts="${dest}/amd/@jupyter-widgets"
rm -rf "${dest}/amd" && mkdir -p "${fonts}"
cp html-manager/package/dist/*.woff2 html-manager/package/dist/*.woff \
  html-manager/package/dist/*.ttf "${fonts}/"

# MathJax: the combined file with every TeX extension, and its CommonHTML fonts.
rm -rf "${dest}/mathjax" && mkdir -p "${dest}/mathjax/output/chtml/fonts"
cp mathjax/package/es5/tex-chtml-full.js "${dest}/mathjax/"
cp -r mathjax/package/es5/output/chtml/fonts/woff-v2 "${dest}/mathjax/output/chtml/fonts/"

echo "Vendored html-manager ${HTML_MANAGER_VERSION}, requirejs ${REQUIREJS_VERSION}," \
  "mathjax ${MATHJAX_VERSION} into ${dest}"
