#!/usr/bin/env bash
# Interleaved A/B of the API-server and controller benchmarks: two directories, each holding a
# release `calico-bench` and `gardener-extension-networking-calico` (e.g. copies of .build/release
# from two commits). The binaries run in turn, so both see the same host speed; on a shared
# machine whose speed changes within minutes that is the only fair comparison.
# Usage: hack/bench-ab.sh BEFORE_DIR AFTER_DIR [ROUNDS]
set -euo pipefail
before=${1:?before dir}; after=${2:?after dir}; rounds=${3:-3}
speed() { "$after/calico-bench" validate --iterations 20000 2>&1 | head -1; }
echo "== start $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)"; speed
for mode in all none off; do
  for _ in $(seq "$rounds"); do
    for dir in "$before" "$after"; do
      echo -n "apiserver $mode $dir: "
      "$dir/calico-bench" apiserver --count 10000 --concurrency 8 --watchers 100 --watch-mode "$mode" 2>&1 \
        | grep -E "^writes|^cpu .*per write|^watch " | tr -s ' ' | tr '\n' '|'
      echo
    done
  done
done
for _ in $(seq $((rounds + 2))); do
  for dir in "$before" "$after"; do
    echo -n "controller $dir: "
    "$dir/calico-bench" controller --controller "$dir/gardener-extension-networking-calico" --networks 1000 --steady-seconds 0 2>&1 \
      | grep -E "Succeeded|^requests|reconcile time|loaded RSS" | tr -s ' ' | tr '\n' '|'
    echo
  done
done
echo "== end $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)"; speed
