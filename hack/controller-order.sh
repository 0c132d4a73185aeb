#!/usr/bin/env bash
# Regenerates hack/controller.order, the function order the static controller is linked with
# (see hack/controller_order.py). Run after larger changes to what the controller does at start
# or per reconcile; a stale file only costs idle RSS (functions it misses are placed after the
# listed ones), never correctness.
#
# Profiles the static controller under callgrind through calico-bench's controller benchmark:
#   1. start + idle (no Networks): these functions come first,
#   2. 20 Networks reconciled + a short steady phase: reconcile code after them.
# Needs valgrind, python3 and the release calico-bench (make bench builds both binaries).
set -euo pipefail
cd "$(dirname "$0")/.."

bench=.build/release/calico-bench
binary=${1:-.build-static/release/gardener-extension-networking-calico}
[ -x "$bench" ] || { echo "build $bench first: swift build -c release --product calico-bench" >&2; exit 1; }
[ -x "$binary" ] || { echo "build $binary first: make static-controller" >&2; exit 1; }
command -v valgrind >/dev/null || { echo "valgrind is needed (apt-get install valgrind)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# valgrind 3.19 cannot read the toolchain's DWARF 5; the symbol table is all it needs.
strip -g -o "$work/gardener-extension-networking-calico" "$binary"
cat >"$work/controller" <<EOF
#!/usr/bin/env bash
exec valgrind --tool=callgrind --dump-instr=no --demangle=no --compress-strings=no --compress-pos=no \
  --callgrind-out-file="$work/profile.\$PROFILE_PHASE" "$work/gardener-extension-networking-calico" "\$@" 2>>"$work/valgrind.log"
EOF
chmod +x "$work/controller"

# The bench only signals the controller when it ends early (--steady-seconds 0): wait until
# callgrind has written the profile and its summary line.
wait_for_profiles() {
  for _ in $(seq 1 600); do
    [ "$(grep -c 'Collected :' "$work/valgrind.log" 2>/dev/null || true)" -ge "$1" ] && return 0
    sleep 0.2
  done
  echo "callgrind did not finish; see $work/valgrind.log" >&2
  return 1
}
PROFILE_PHASE=1-idle "$bench" controller --controller "$work/controller" --networks 0 --steady-seconds 0 >/dev/null
wait_for_profiles 1
PROFILE_PHASE=2-reconcile "$bench" controller --controller "$work/controller" --networks 20 --steady-seconds 3 >/dev/null
wait_for_profiles 2
python3 hack/controller_order.py "$work/gardener-extension-networking-calico" hack/controller.order "$work/profile.1-idle" "$work/profile.2-reconcile"
