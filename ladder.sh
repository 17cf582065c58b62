#!/usr/bin/env bash
# Run the presets at CPU scale on a labelled dataset and tabulate target accuracy and minutes.
#
#   bash ladder.sh --data ZIP --target-labels CSV --out DIR [--presets "simple medium strong boss"] [--key value ...]
#
# Runs go to DIR/checkpoints and DIR/submissions. Training never sees the labels: they are read
# only to score each final submission. A preset already finished in DIR is not run again.
set -euo pipefail
caller_dir=$(pwd)
cd "$(dirname "$0")"
# Paths given on the command line are relative to where the user stands, not to this folder.
absolute() { case "$1" in ""|/*) echo "$1" ;; *) echo "$caller_dir/$1" ;; esac; }
PYTHON=${PYTHON:-python3}
data="" labels="" out="" presets="simple medium strong boss" passthrough=()
while [ $# -gt 0 ]; do
  case "$1" in
    --data) data=$(absolute "$2"); shift 2 ;;
    --target-labels) labels=$(absolute "$2"); shift 2 ;;
    --out) out=$(absolute "$2"); shift 2 ;;
    --presets) presets="$2"; shift 2 ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) passthrough+=("$1"); shift ;;
  esac
done
if [ -z "$data" ] || [ -z "$labels" ] || [ -z "$out" ]; then
  echo "error: ladder.sh needs --data ZIP --target-labels CSV --out DIR" >&2; exit 2
fi
[ -f "$labels" ] || { echo "error: $labels does not exist: pass the id,label CSV of the doodles" >&2; exit 2; }
mkdir -p "$out"

for preset in $presets; do
  seconds_file="$out/seconds_$preset.txt"
  if [ -f "$seconds_file" ] && [ -f "$out/submissions/ladder_$preset.csv" ]; then
    echo "ladder: $preset already measured in $out; skipping"; continue
  fi
  echo "ladder: running preset $preset at CPU scale (log: $out/ladder_$preset.log)"
  began=$(date +%s)
  if ! ROD_WORKDIR="$out" bash run_all.sh --data "$data" --preset "$preset" --run "ladder_$preset" --scale cpu \
      ${passthrough[@]+"${passthrough[@]}"} 2>&1 | tee "$out/ladder_$preset.log"; then
    echo "error: preset $preset failed; see $out/ladder_$preset.log" >&2; exit 1
  fi
  echo $(( $(date +%s) - began )) > "$seconds_file"
done

"$PYTHON" -m bench.ladder_table --out "$out" --target-labels "$labels" --presets "$presets"
