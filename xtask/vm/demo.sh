# The kube-proxy IPVS walkthrough with kipvs (run by `cargo xtask demo`, as
# root in the throwaway test VM, with `kipvs` first on the PATH).
#
# kube-proxy in IPVS mode, for one ClusterIP service with three endpoints:
# a dummy link kube-ipvs0 (left DOWN) holding the ClusterIP, an IPVS virtual
# service with one masqueraded real server per endpoint, and the ClusterIP
# in the KUBE-CLUSTER-IP ipset that its iptables rules match on. kipvs does
# each step; the real ipvsadm, ipset and ip check the kernel's view.
set -euo pipefail

VIP=10.110.197.49
PORT=80
REALS=(172.17.0.2 172.17.0.3 172.17.0.4)

step() {
    printf '\n$ %s\n' "$*"
    if ! "$@"; then
        printf 'demo: FAILED: %s\n' "$*" >&2
        exit 1
    fi
}

same() {
    local what=$1 expected=$2 actual=$3
    if [ "$expected" != "$actual" ]; then
        printf 'demo: FAILED: %s differs (< real tool, > kipvs):\n' "$what" >&2
        diff <(printf '%s\n' "$expected") <(printf '%s\n' "$actual") >&2 || true
        exit 1
    fi
}

printf 'kipvs: %s\n' "$(command -v kipvs)"

# 1. kube-ipvs0: a dummy link, DOWN, with the ClusterIP bound as /32.
step kipvs link ensure
step kipvs addr add --dev kube-ipvs0 "$VIP/32"

# 2. The virtual service, round-robin, and its masqueraded real servers.
step kipvs ipvsadm -A -t "$VIP:$PORT" -s rr
for r in "${REALS[@]}"; do
    step kipvs ipvsadm -a -t "$VIP:$PORT" -r "$r:8080" -m -w 1
done

# 3. The ClusterIP in KUBE-CLUSTER-IP, as kube-proxy creates it.
step kipvs ipset create KUBE-CLUSTER-IP hash:ip,port family inet hashsize 1024 maxelem 65536
step kipvs ipset add KUBE-CLUSTER-IP "$VIP,tcp:$PORT"

# 4. What the kernel holds, through kipvs and through the real tools.
printf '\n$ kipvs ipvsadm -Ln\n'
ours=$(kipvs ipvsadm -Ln)
printf '%s\n' "$ours"
printf '\n$ ipvsadm -Ln    # the real ipvsadm\n'
theirs=$(ipvsadm -Ln)
printf '%s\n' "$theirs"
same "ipvsadm -Ln" "$theirs" "$ours"
printf '(identical)\n'

printf '\n$ kipvs ipset list KUBE-CLUSTER-IP\n'
ours=$(kipvs ipset list KUBE-CLUSTER-IP)
printf '%s\n' "$ours"
theirs=$(ipset list KUBE-CLUSTER-IP)
same "ipset list KUBE-CLUSTER-IP" "$theirs" "$ours"
printf '(identical to the real ipset)\n'

step ip addr show kube-ipvs0
link=$(ip -d link show kube-ipvs0)
grep -q 'state DOWN' <<<"$link" || { echo "demo: FAILED: kube-ipvs0 is not DOWN" >&2; exit 1; }
grep -qw dummy <<<"$link" || { echo "demo: FAILED: kube-ipvs0 is not a dummy link" >&2; exit 1; }
ip -4 addr show dev kube-ipvs0 | grep -q "inet $VIP/32 " ||
    { echo "demo: FAILED: $VIP/32 is not on kube-ipvs0" >&2; exit 1; }

step kipvs service list --json

printf '\ndemo: ok\n'
