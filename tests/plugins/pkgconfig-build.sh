#!/bin/sh
# pkgconfig-build.sh BUILD_DIR CC FIXTURE_SRC - installs the storage-dev
# component (cove/storage.h + cove-storage.pc) into a temp prefix and builds a
# plugin with nothing but `pkg-config --cflags cove-storage`: the promise that
# out-of-tree engines need the installed header alone.
set -eu
build=$1 cc=$2 src=$3
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cove-pc-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" --component storage-dev >/dev/null
pc=$(find "$tmp/prefix" -name cove-storage.pc)
[ -n "$pc" ] || { echo "cove-storage.pc not installed" >&2; exit 1; }
export PKG_CONFIG_PATH=$(dirname "$pc")
cflags=$(pkg-config --cflags cove-storage)
case $cflags in *"$tmp/prefix"*) ;; *) echo "cflags do not point into the prefix: $cflags" >&2; exit 1 ;; esac
plugindir=$(pkg-config --variable=plugindir cove-storage)
case $plugindir in "$tmp/prefix"/*) ;; *) echo "bad plugindir: $plugindir" >&2; exit 1 ;; esac
# Copy the source away from the tree so no in-tree include path can help.
cp "$src" "$tmp/mine.c"
"$cc" -std=c11 -Wall -Wextra -Werror -fPIC -shared -DFIXTURE_NEWER $cflags \
        -o "$tmp/cove_store_mine.so" "$tmp/mine.c"
nm -D --defined-only "$tmp/cove_store_mine.so" | grep -q ' cove_store_entry$' || {
        echo "cove_store_entry not exported" >&2; exit 1; }
echo "ok: built with $cflags"
