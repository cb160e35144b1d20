#!/usr/bin/env bash
# Vendors uPlot (the charting library of the training dashboard, dev.kiln.train.Dashboard) from npm into the engine's
# resources: the minified script, its CSS and its MIT licence. The result is committed, so a build needs neither npm
# nor a network (Maven runs offline with -o; nothing is downloaded at run time either). Run this to update uPlot:
# change UPLOT_VERSION and UPLOT_INTEGRITY (npm view uplot@VERSION dist.integrity), run it, commit the files.
# --check: vendor into a scratch folder and compare with the committed files (exit 1 when they differ).
set -euo pipefail
readonly UPLOT_VERSION=1.6.32
readonly UPLOT_INTEGRITY=sha512-KIMVnG68zvu5XXUbC4LQEPnhwOxBuLyW1AHtpm6IKTXImkbLgkMy+jabjLgSLMasNuGGzQm/ep3tOkyTxpiQIw==
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="$root/engine/src/main/resources/dev/kiln/train/dashboard"
command -v npm >/dev/null || { echo "vendor-uplot: npm not found (apt-get install npm)" >&2; exit 2; }
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "uplot@$UPLOT_VERSION" >/dev/null)
tgz="$work/uplot-$UPLOT_VERSION.tgz"
got="sha512-$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)"
[[ "$got" == "$UPLOT_INTEGRITY" ]] || { echo "vendor-uplot: uplot-$UPLOT_VERSION.tgz has integrity $got, expected $UPLOT_INTEGRITY" >&2; exit 1; }
tar xzf "$tgz" -C "$work"
out="$work/out"; mkdir -p "$out"
cp "$work/package/dist/uPlot.iife.min.js" "$work/package/dist/uPlot.min.css" "$out/"
cp "$work/package/LICENSE" "$out/uPlot.LICENSE"
printf 'uplot %s (npm, MIT licence: uPlot.LICENSE)\n%s\n' "$UPLOT_VERSION" "$UPLOT_INTEGRITY" > "$out/uPlot.VERSION"
if [[ "${1:-}" == "--check" ]]; then
    for f in "$out"/*; do cmp -s "$f" "$dest/$(basename "$f")" || { echo "vendor-uplot: $dest/$(basename "$f") differs from npm's uplot@$UPLOT_VERSION" >&2; exit 1; }; done
    echo "vendor-uplot: the committed files are uplot@$UPLOT_VERSION from npm"
else
    mkdir -p "$dest"; cp "$out"/* "$dest/"
    echo "vendor-uplot: uplot@$UPLOT_VERSION copied into ${dest#"$root"/}"
fi
