#!/bin/sh
# Run every review-lint rule over each application of APP_LIST with the code of CODE_ROOT,
# one application at a time (--jobs 1), writing OUTDIR/<name>.json and OUTDIR/<name>.time.
# APP_LIST: one "name<TAB or space>path" per line (blank lines and "#" comments skipped).
# The applications' code is read, never imported or run.
# Usage: bench/hunt.sh APP_LIST OUTDIR CODE_ROOT
# The interpreter: $PYTHON, else CODE_ROOT/.venv/bin/python, else python3 (it needs the
# project's dependencies; CODE_ROOT is put first on PYTHONPATH, so a worktree without its own
# venv runs its own code with another checkout's interpreter). The rules come from CODE_ROOT
# (REVIEW_LINT_RULES_PATH is emptied). Run it again with another CODE_ROOT and compare the two
# OUTDIRs (bench/compare.py) to see what a change does to the same applications.
set -u
[ $# -eq 3 ] || { echo "usage: $0 APP_LIST OUTDIR CODE_ROOT" >&2; exit 2; }
list=$1; out=$2; code=$(cd "$3" && pwd)
py=${PYTHON:-$code/.venv/bin/python}
[ -x "$py" ] || py=python3
mkdir -p "$out"; out=$(cd "$out" && pwd)
grep -v '^[[:space:]]*\(#\|$\)' "$list" | while read -r name path; do
    if [ -e "$path/.review-lint.yaml" ] || grep -qs '^\[tool\.review-lint\]' "$path/pyproject.toml"; then
        echo "$name: the application has its own review-lint configuration at $path" >&2
    fi
    start=$(date +%s)
    (cd "$path" && PYTHONPATH="$code" REVIEW_LINT_RULES_PATH= "$py" -m review_lint.cli check . \
        --select ALL --format json --no-cache --jobs 1 --quiet > "$out/$name.json" 2> "$out/$name.err")
    rc=$?
    end=$(date +%s)
    n=$("$py" -c 'import json,sys,collections; d=json.load(open(sys.argv[1])); d=d.get("diagnostics",d) if isinstance(d,dict) else d; print(dict(collections.Counter(x.get("rule") or x.get("code") for x in d)))' "$out/$name.json" 2>/dev/null)
    echo "$name rc=$rc $((end-start))s $n" | tee "$out/$name.time"
done
