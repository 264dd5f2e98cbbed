#!/usr/bin/env bash
# Renders the reports of eight schools and of the GMM (examples/) and checks
# them in headless Chromium (check_report.py): the plate diagram, the ELBO
# curve and every site's panel present, no network request, no script error.
# Screenshots land beside the pages in OUT.
#   render_reports.sh VIREO SOURCE_DIR OUT
set -euo pipefail
vireo=$1 src=$2 out=$3
mkdir -p "$out"
rm -f "$out"/*.html "$out"/*.png
"$vireo" run "$src/examples/eight_schools.vireo" --data "$src/examples/eight_schools.json" --seed 1 \
  --evidence 1000 --grad-var 20 --report "$out/eight_schools.html" >/dev/null
"$vireo" run "$src/examples/gmm.vireo" --data "$src/examples/gmm.json" --seed 1 --steps 300 \
  --report "$out/gmm.html" >/dev/null 2>&1
exec python3 "$src/tests/report/check_report.py" \
  "$out/eight_schools.html" --site mu --site tau --site eta --site theta \
  --page "$out/gmm.html" --site loc --site z
