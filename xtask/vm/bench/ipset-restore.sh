# Benchmark: restore 100,000 entries into a hash:ip,port set with
# `ipset restore` and with `kipvs ipset restore`, then replace the whole set
# atomically through the library (`kipvs set replace`: fill a temporary set,
# swap, destroy). Run by `cargo xtask bench ipset-restore` in the VM; each
# timing runs in a fresh network namespace.
set -euo pipefail

N=${1:-100000}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
# Time a local copy of kipvs, not page-ins over the VM's 9p share.
cp "$(command -v "${KIPVS:-kipvs}")" "$dir/kipvs"
export PATH="$dir:$PATH"

# kube-proxy's KUBE-CLUSTER-IP shape: ClusterIP,tcp:port.
{
    echo "create KUBE-CLUSTER-IP hash:ip,port family inet hashsize 1024 maxelem 262144"
    awk -v n="$N" 'BEGIN { for (i = 0; i < n; i++)
        printf "add KUBE-CLUSTER-IP 10.%d.%d.%d,tcp:%d\n", 96 + int(i / 65536), int(i / 256) % 256, i % 256, 80 + i % 3 }'
} >"$dir/restore"
# The replacement: a different tenth of the entries, on another port.
awk -v n="$N" 'BEGIN { for (i = 0; i < n; i++)
    printf "10.%d.%d.%d,tcp:%d\n", 96 + int(i / 65536), int(i / 256) % 256, i % 256, (i % 10 == 0) ? 8443 : 80 + i % 3 }' >"$dir/replace"

# timed COMMAND...: runs in a fresh namespace, prints nanoseconds, leaves
# the saved set in $dir/save-$tag. The hash seed (initval) is random, and
# the kernel's resizes follow it: the same restore ends with hashsize 32768
# in some runs and 65536 in others, whichever tool makes it, so neither is
# compared.
timed() {
    local tag=$1
    shift
    unshare -n bash -c '
        set -e
        save=$1; shift
        t0=$(date +%s%N)
        "$@" >/dev/null
        t1=$(date +%s%N)
        ipset save | sed "s/ initval 0x[0-9a-f]*//; s/ hashsize [0-9]*//" | sort >"$save"
        echo $((t1 - t0))
    ' _ "$dir/save-$tag" "$@"
}

ms() { printf '%d.%03d' $(($1 / 1000000)) $(($1 / 1000 % 1000)); }
ratio() { printf '%d.%02dx' $(($1 / $2)) $(($1 * 100 / $2 % 100)); }

ref=$(timed ipset ipset restore -file "$dir/restore")
ours=$(timed kipvs kipvs ipset restore -file "$dir/restore")
if ! cmp -s "$dir/save-ipset" "$dir/save-kipvs"; then
    echo "bench: the two sets differ (< ipset, > kipvs):" >&2
    diff "$dir/save-ipset" "$dir/save-kipvs" | head >&2
    exit 1
fi
replace=$(unshare -n bash -c '
    set -e
    ipset restore -file "$1"
    t0=$(date +%s%N)
    kipvs set replace KUBE-CLUSTER-IP - <"$2" >/dev/null
    t1=$(date +%s%N)
    test "$(ipset list KUBE-CLUSTER-IP | grep -c ",tcp:8443")" -eq $(( ($3 + 9) / 10 ))
    echo $((t1 - t0))
' _ "$dir/restore" "$dir/replace" "$N")

printf '\n%-52s %12s\n' "$N entries, hash:ip,port" "time (ms)"
printf '%-52s %12s\n' "ipset restore" "$(ms "$ref")"
printf '%-52s %12s  (speed-up %s)\n' "kipvs ipset restore" "$(ms "$ours")" "$(ratio "$ref" "$ours")"
printf '%-52s %12s\n' "kipvs set replace (fill temp set, swap, destroy)" "$(ms "$replace")"
printf '(TCG VM, 2 vCPUs; both restores save the same set)\n'
