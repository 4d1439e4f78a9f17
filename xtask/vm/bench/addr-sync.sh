#!/bin/bash
# Times `kipvs addr sync` of N addresses against `ip -batch` of the same N
# `address add` lines, each run in a fresh network namespace on a fresh
# link; then a no-op re-sync and a 10% churn sync with kipvs.
#
# usage: addr-sync.sh [KIND [FAMILY [N [ROUNDS]]]]
#   KIND    dummy (default; `cargo xtask bench addr-sync` runs it in the VM)
#           or veth (hosts without the dummy driver)
#   FAMILY  v4 (default) or v6
# Needs root, bash 5 (EPOCHREALTIME), unshare, ip, and kipvs on the PATH
# (or $KIPVS).
set -euo pipefail
kind=${1:-dummy}; fam=${2:-v4}; n=${3:-5000}; rounds=${4:-3}
kipvs=${KIPVS:-kipvs}
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
# Time a local copy of kipvs, not page-ins over the VM's 9p share.
cp "$(command -v "${KIPVS:-kipvs}")" "$dir/kipvs"
kipvs=$dir/kipvs

addr() { # the i-th address of the family
  if [ "$fam" = v4 ]; then echo "10.$((96 + $1 / 65536)).$(($1 / 256 % 256)).$(($1 % 256))/32"
  else printf 'fd00::%x/128\n' "$1"; fi
}
for ((i = 1; i <= n; i++)); do addr $i; done > "$dir/desired"
sed 's|^\(.*\)$|address add \1 dev kube-ipvs0|' "$dir/desired" > "$dir/ip-batch"
# Churn: drop the first 10%, add as many new ones.
{ tail -n +$((n / 10 + 1)) "$dir/desired"; for ((i = n + 1; i <= n + n / 10; i++)); do addr $i; done; } > "$dir/churn"

# Runs "$@" in a fresh namespace holding an empty kube-ipvs0 of $kind,
# after the set-up command $setup; prints the wall time of "$@" in us.
fresh() {
  unshare -n bash -c '
    set -e
    if [ "$0" = dummy ]; then ip link add kube-ipvs0 type dummy
    else ip link add kube-ipvs0 type veth peer name kube-peer; fi
    eval "$1"; shift
    s=${EPOCHREALTIME/./}; "$@" > /dev/null; e=${EPOCHREALTIME/./}
    echo $((e - s))' "$kind" "$setup" "$@"
}
ms() { echo "$(($1 / 1000)).$(printf %03d $(($1 % 1000)))"; }

median() { sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
: > "$dir/ip.t"; : > "$dir/kipvs.t"; : > "$dir/noop.t"; : > "$dir/churn.t"
for ((r = 1; r <= rounds; r++)); do
  setup=: ; a=$(fresh ip -batch "$dir/ip-batch")
  setup=: ; b=$(fresh "$kipvs" addr sync -q -f "$dir/desired")
  setup="$kipvs addr sync -q -f $dir/desired >/dev/null"
  c=$(fresh "$kipvs" addr sync -q -f "$dir/desired")
  d=$(fresh "$kipvs" addr sync -q -f "$dir/churn")
  echo "$a" >> "$dir/ip.t"; echo "$b" >> "$dir/kipvs.t"; echo "$c" >> "$dir/noop.t"; echo "$d" >> "$dir/churn.t"
  echo "round $r: ip -batch $(ms $a) ms, kipvs addr sync $(ms $b) ms, no-op re-sync $(ms $c) ms, 10% churn $(ms $d) ms"
done
ip_t=$(median < "$dir/ip.t"); k_t=$(median < "$dir/kipvs.t")
echo "median of $rounds, $n $fam addresses on a $kind: ip -batch $(ms $ip_t) ms," \
  "kipvs $(ms $k_t) ms, kipvs/ip = $(awk "BEGIN {printf \"%.2f\", $k_t / $ip_t}")," \
  "no-op re-sync $(ms $(median < "$dir/noop.t")) ms, 10% churn $(ms $(median < "$dir/churn.t")) ms"
