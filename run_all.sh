#!/usr/bin/env bash
# Run the whole pipeline: preprocess -> DANN -> [pseudo-label -> fine-tune] x rounds -> ensemble -> report -> submission.
#
#   bash run_all.sh                                   # the embedded demo (no data needed)
#   bash run_all.sh --data real_or_drawing.zip --preset boss --run myrun
#   bash run_all.sh --data DIR --target-labels labels.csv --preset simple --epochs 10 --run dev10
#
# Options: --data PATH  --preset NAME  --run NAME  --target-labels CSV  --device auto|cpu|cuda,
# and any other --key value is a setting override (python -m stages.s01_preprocess --help lists them).
set -euo pipefail
caller_dir=$(pwd)
cd "$(dirname "$0")"
# Paths given on the command line are relative to where the user stands, not to this folder.
absolute() { case "$1" in ""|/*) echo "$1" ;; *) echo "$caller_dir/$1" ;; esac; }
PYTHON=${PYTHON:-python3}

data="" preset="" run="" labels="" passthrough=()
while [ $# -gt 0 ]; do
  case "$1" in
    --data) data=$(absolute "${2:?--data needs a path}"); shift 2 ;;
    --preset) preset="${2:?--preset needs a name}"; shift 2 ;;
    --run) run="${2:?--run needs a name}"; shift 2 ;;
    --target-labels) labels=$(absolute "${2:?--target-labels needs a CSV path}"); shift 2 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) passthrough+=("$1"); shift ;;
  esac
done

# Install whatever requirement is missing into this Python.
if ! "$PYTHON" -c "import torch, torchvision, numpy, pandas, sklearn, tqdm, cv2, matplotlib" 2>/dev/null; then
  echo "run_all: installing requirements.txt into $("$PYTHON" -c 'import sys; print(sys.prefix)')"
  "$PYTHON" -m pip install -q -r requirements.txt
fi

if [ -z "$data" ]; then
  if [ -e data/real_or_drawing.zip ]; then data=data/real_or_drawing.zip
  elif [ -d data/real_or_drawing ]; then data=data/real_or_drawing
  else
    echo "run_all: no --data and no data/real_or_drawing.zip: running the embedded demo (demo/README.md)"
    data=demo/real_or_drawing.zip
    labels=${labels:-demo/target_labels.csv}
    preset=${preset:-demo}
  fi
fi
preset=${preset:-simple}
run=${run:-$preset}
args=(--run "$run" --preset "$preset" --data "$data")
[ -n "$labels" ] && args+=(--target-labels "$labels")
args+=(${passthrough[@]+"${passthrough[@]}"})

stage() { "$PYTHON" -m "stages.$1" "${@:2}"; }
setting() { "$PYTHON" -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "${ROD_WORKDIR:-.}/checkpoints/$run/config.json" "$1"; }

stage s01_preprocess "${args[@]}"
stage s02_train_dann "${args[@]}"
rounds=$(setting pseudo_rounds)
if [ "$(setting mcc_epochs)" -gt 0 ]; then
  for ((r = 1; r <= rounds; r++)); do
    stage s03_pseudo_label "${args[@]}" --round "$r"
    stage s04_finetune_mcc "${args[@]}" --round "$r"
  done
fi
if [ "$(setting select)" = label_free ]; then stage s09_select_checkpoint "${args[@]}"; fi
stage s05_ensemble "${args[@]}"
if [ -n "$(setting eval_doodles)" ]; then stage s08_eval_doodles "${args[@]}"; fi
stage s07_report "${args[@]}"  # before s06, so that the submission and accuracy are the last lines
stage s06_write_submission "${args[@]}"
