#!/bin/sh
# Byte-compile a built layer for the Lambda runtime's CPython (both layer Makefiles call this).
#
# /opt is read-only in Lambda, so a layer without .pyc makes every cold start compile every module it
# imports (measured: about half of a handler's INIT CPU). .pyc are specific to a minor version and
# only that version's compiler writes them, so this needs a CPython of the runtime's version
# (3.12): LAMBDA_PYTHON, python3.12 on PATH, pyenv's or the system's. Hash-based and unchecked: the
# layer never changes after the build and zip archives do not keep exact mtimes, which a
# timestamp-based .pyc is checked against. Without such a Python the layer is built as before, still
# correct, and this says what it costs; the build never fails for it.
set -eu
target="$1"
version="${2:-3.12}"
for candidate in "${LAMBDA_PYTHON:-}" "python$version" \
  $(ls -r "${HOME:-/nonexistent}"/.pyenv/versions/"$version"*/bin/python"$version" 2>/dev/null) \
  "/usr/bin/python$version" "/usr/local/bin/python$version"; do
  [ -n "$candidate" ] || continue
  if "$candidate" -c "import sys; sys.exit(sys.version_info[:2] != tuple(map(int, '$version'.split('.'))))" \
    >/dev/null 2>&1; then
    "$candidate" -m compileall -q -j 0 --invalidation-mode unchecked-hash "$target" >/dev/null
    echo "byte-compiled $target for python$version with $candidate"
    exit 0
  fi
done
echo "WARNING: no CPython $version found (set LAMBDA_PYTHON): $target ships without .pyc, so each" \
  "cold start in Lambda compiles the modules it imports (about twice the INIT CPU)." >&2
