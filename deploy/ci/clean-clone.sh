#!/usr/bin/env bash
# Proves that the tests need nothing beside the checkout: clones HEAD into a fresh temporary
# directory (no ../shared, no sibling worktrees) and runs a fast, representative part of the suite
# there — the catalog checks against the appendix fixture, the outside-files guard, database, view
# and subprocess tests. Only committed work is cloned.
# The clone gets a .venv of its own that sees this checkout's installed packages (a .pth line) but
# not its editable install of Hub, which would look for missing modules in this checkout.
#   deploy/ci/clean-clone.sh [pytest arguments...]
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
python="$repo/.venv/bin/python"
[ -x "$python" ] || { echo "clean-clone: no $python; run make install first" >&2; exit 1; }

where=$(mktemp -d /tmp/hub-clean-clone-XXXXXX)
trap 'rm -rf "$where"' EXIT
git clone --quiet --no-hardlinks "$repo" "$where/hub"
cd "$where/hub"
[ ! -e ../shared ] || { echo "clean-clone: $where/shared exists" >&2; exit 1; }
"$python" -m venv --without-pip .venv
packages=$("$python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
echo "$packages" > "$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/hub-ci.pth"
echo "clean-clone: $(git log --oneline -1) in $where/hub"
./deploy/test-requirements.sh
.venv/bin/python -m pytest -q -p no:cacheprovider "$@" \
    tests/test_hermetic.py \
    tests/test_screenshots.py \
    tests/activity/test_catalog.py \
    tests/activity/test_models.py \
    tests/hub/test_config.py \
    tests/hub/test_first_run.py \
    tests/integrations/test_validation.py \
    tests/connectors/test_local_tracker.py \
    tests/engine/test_pure.py \
    tests/engine/test_sync.py
