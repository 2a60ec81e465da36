#!/usr/bin/env bash
# Fetches chDB's engine library (libchdb.so: ClickHouse 26.7 as a library, clickhouse-local's
# SQL engine without a server) for tests/integration/storage_newer_clickhouse.sh, the only way to
# run Rampart's schema and encoders against a ClickHouse newer than Debian's 18.16 here (Debian
# ships 18.16 only; the npm registry carries chDB's library as a plain tarball, no npm needed).
#
# Idempotent: with the library in place (and its recorded checksum matching) it does nothing and
# says so. The tarball is checked against the registry's published sha512 (dist.integrity of
# @chdb/lib-linux-x64-gnu@26.7.3-stable.1) before anything is unpacked.
#   RAMPART_CHDB_DIR  where it goes (default /var/cache/rampart/chdb); the library ends up as
#                     $RAMPART_CHDB_DIR/26.7.3-stable.1/libchdb.so (~570 MB, ~180 MB to download)
#   RAMPART_CHDB_TGZ  a tarball already downloaded (used only if its sha512 matches)
set -euo pipefail

VERSION=26.7.3-stable.1
URL="https://registry.npmjs.org/@chdb/lib-linux-x64-gnu/-/lib-linux-x64-gnu-$VERSION.tgz"
# base64 -d of the registry's "sha512-XP97mMqn...": the tarball's SHA-512
SHA512=5cff7b98caa7739b59a4a432c11f0dedc2d3b073624e61ebdf4a42e66ce8de35a6ba48ca9f62016bad1cd81fe059435cb858ce3235a8a2b408082a81563e70a7
DIR=${RAMPART_CHDB_DIR:-/var/cache/rampart/chdb}
DEST="$DIR/$VERSION"

if [ -s "$DEST/libchdb.so" ] && [ "$(cat "$DEST/tarball.sha512" 2>/dev/null)" = "$SHA512" ]; then
	echo "install-chdb: $DEST/libchdb.so present (ClickHouse 26.7 engine, chDB $VERSION)"
	exit 0
fi

mkdir -p "$DIR"
tmp=$(mktemp -d "$DIR/.fetch.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
tgz="$tmp/lib.tgz"
if [ -n "${RAMPART_CHDB_TGZ:-}" ] && [ -f "$RAMPART_CHDB_TGZ" ]; then
	echo "install-chdb: using $RAMPART_CHDB_TGZ"
	cp "$RAMPART_CHDB_TGZ" "$tgz"
else
	echo "install-chdb: downloading $URL (~180 MB)"
	curl -fsSL --retry 3 --connect-timeout 20 -o "$tgz" "$URL"
fi
got=$(sha512sum "$tgz" | cut -d' ' -f1)
if [ "$got" != "$SHA512" ]; then
	echo "install-chdb: checksum mismatch for $URL: got $got, want $SHA512" >&2
	exit 1
fi
echo "install-chdb: sha512 verified; unpacking package/libchdb.so into $DEST"
tar -xzf "$tgz" -C "$tmp" package/libchdb.so
rm -rf "$DEST"
mkdir -p "$DEST"
mv "$tmp/package/libchdb.so" "$DEST/libchdb.so"
echo "$SHA512" >"$DEST/tarball.sha512"
echo "install-chdb: done: $DEST/libchdb.so"
