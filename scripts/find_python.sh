#!/usr/bin/env bash
# Prints the path of a working Python 3.10 interpreter, or explains in one line
# why there is none. The pyenv shim `python3.10` exists on machines where 3.10
# is installed but not selected, so each candidate is actually run.
set -u
candidates=(python3.10)
if command -v pyenv >/dev/null 2>&1; then
  root=$(pyenv root)
  for p in "$root"/versions/3.10*/bin/python3.10; do candidates+=("$p"); done
fi
for p in /root/.pyenv/versions/3.10*/bin/python3.10 /usr/bin/python3.10 /usr/local/bin/python3.10; do
  candidates+=("$p")
done
for p in "${candidates[@]}"; do
  if "$p" -c 'import sys; assert sys.version_info[:2] == (3, 10)' >/dev/null 2>&1; then
    "$p" -c 'import sys; print(sys.executable)'
    exit 0
  fi
done
echo "error: Python 3.10 is required (dm-launchpad 0.5 has no wheels for 3.11+); install it, e.g. 'pyenv install 3.10', and retry." >&2
exit 1
