# Benchmark: declarative sync (`kipvs apply`) against the tools, for
# 1,000 / 5,000 / 10,000 services x 3 real servers, each with one
# KUBE-CLUSTER-IP entry and one kube-ipvs0 address (kube-proxy's shape).
#
#   cold      `kipvs apply -f state.json` on an empty namespace, against
#             `ipvsadm -R` + `ipset restore` + `ip -batch` of the same state;
#   no-change a second sync of the same state by the same syncer (what a
#             controller pays every period): `apply -f state -f state`,
#             the second file's time from --timings;
#   churn 1%  1% of the services replaced by new ones (new VIPs, entries,
#             addresses; the old ones' real servers drain): likewise;
#   one-shot  a no-change `kipvs apply` run as a new process (reads the
#             whole table: 1 + N real-server dumps).
#
# Run in the VM with `cargo xtask vm-run --release xtask/vm/bench/sync.sh [SIZES]`
# (or `cargo xtask bench sync` once the scenario is listed in
# xtask/src/payload.rs). The inputs are generated here. Every measurement
# gets a fresh network namespace: IPVS keeps deleted real servers on a
# trash list that slows later adds.
set -euo pipefail

SIZES=${*:-"1000 5000 10000"}
DIR=$(mktemp -d /tmp/kipvs-bench-sync.XXXXXX)
export KIPVS_LOCK=$DIR/lock
# kipvs comes from the host over the shared mount, the tools from the VM's
# own disk: time a local copy, so page-ins over the mount do not count.
cp "$(command -v kipvs)" "$DIR/kipvs"
export PATH="$DIR:$PATH"

# gen N PREFIX FIRST: the state of N services numbered from FIRST as
# PREFIX.json (kipvs) and PREFIX.{ipvs,ipset,ip} (the tools).
gen() {
    awk -v n="$1" -v first="$3" -v out="$DIR/$2" '
    function vip(i) { return sprintf("10.%d.%d.%d", 96 + int(i / 65536), int(i / 256) % 256, i % 256) }
    function rip(i) { return sprintf("172.%d.%d.%d", 16 + int(i / 65536), int(i / 256) % 256, i % 256) }
    BEGIN {
        json = out ".json"; ipvs = out ".ipvs"; ipset = out ".ipset"; ip = out ".ip"
        printf "create KUBE-CLUSTER-IP hash:ip,port family inet hashsize 1024 maxelem 65536\n" > ipset
        printf "link add kube-ipvs0 type dummy\n" > ip
        printf "{\"version\": 1, \"scope\": {\"set_prefixes\": [\"KUBE-\"], \"cidrs\": [\"10.96.0.0/12\"]},\n \"services\": [\n" > json
        for (s = first; s < first + n; s++) {
            v = vip(s)
            printf "%s{\"protocol\": \"tcp\", \"addr\": \"%s\", \"port\": 80, \"scheduler\": \"rr\", \"destinations\": [", (s > first ? ",\n" : ""), v > json
            printf "-A -t %s:80 -s rr\n", v > ipvs
            for (r = 0; r < 3; r++) {
                real = rip(s * 3 + r + 1)
                printf "%s{\"addr\": \"%s\", \"port\": 8080, \"forward\": \"masq\", \"weight\": 1}", (r ? ", " : ""), real > json
                printf "-a -t %s:80 -r %s:8080 -m -w 1\n", v, real > ipvs
            }
            printf "]}" > json
            printf "add KUBE-CLUSTER-IP %s,tcp:80\n", v > ipset
            printf "addr add %s/32 dev kube-ipvs0\n", v > ip
        }
        printf "],\n \"ipsets\": [{\"name\": \"KUBE-CLUSTER-IP\", \"type\": \"hash:ip,port\", \"options\": {\"family\": \"inet\", \"hashsize\": 1024, \"maxelem\": 65536}, \"entries\": [" > json
        for (s = first; s < first + n; s++)
            printf "%s\"%s,tcp:80\"", (s > first ? ", " : ""), vip(s) > json
        printf "]}],\n \"addresses\": {\"interface\": \"kube-ipvs0\", \"addresses\": [" > json
        for (s = first; s < first + n; s++)
            printf "%s\"%s\"", (s > first ? ", " : ""), vip(s) > json
        printf "]}}\n" > json
        close(json)
        # The same state split by part, to time each on its own.
        while ((getline line < json) > 0) doc = doc line "\n"
        close(json)
        i = index(doc, "\n \"ipsets\""); j = index(doc, "\n \"addresses\"")
        head = "{\"version\": 1,"
        printf "%s%s\n]}\n", "{\"version\": 1, ", substr(doc, index(doc, "\"services\""), i - index(doc, "\"services\"") - 2) > (out "-svc.json")
        printf "%s%s}\n", head, substr(doc, i + 1, j - i - 2) > (out "-set.json")
        printf "%s%s\n", head, substr(doc, j + 1) > (out "-addr.json")
    }'
}

now() { date +%s%N; }

# fresh COMMAND: runs COMMAND (a bash line) in a new network namespace with
# lo up (IPVS refuses real servers without a route).
fresh() { unshare -n bash -c "ip link set lo up; $1"; }

# The tools: ipvsadm -R, ipset restore, ip -batch; prints nanoseconds
# (total, then each), and what the kernel holds.
tools() {
    fresh "
        t0=\$(date +%s%N)
        ipvsadm -R <$DIR/$1.ipvs
        t1=\$(date +%s%N)
        ipset restore <$DIR/$1.ipset
        t2=\$(date +%s%N)
        ip -batch $DIR/$1.ip
        t3=\$(date +%s%N)
        echo \$((t3 - t0)) \$((t1 - t0)) \$((t2 - t1)) \$((t3 - t2)) \$(ipvsadm -Sn | wc -l) \$(ipset list KUBE-CLUSTER-IP | grep -c tcp:80) \$(ip -o addr show dev kube-ipvs0 | wc -l)
    "
}

# part FILE: nanoseconds of a cold `kipvs apply` of one part.
part() {
    fresh "
        t0=\$(date +%s%N)
        kipvs apply -f $1 >/dev/null
        t1=\$(date +%s%N)
        echo \$((t1 - t0))
    "
}

# kipvs: cold apply as its own process, then one syncer over the same
# state several times (no change), and one over the state and its churned
# form in turn (with --prune: the replaced services drain and go); prints
# nanoseconds and what the kernel holds.
ours() {
    fresh "
        set -e
        t0=\$(date +%s%N)
        kipvs apply -f $DIR/$1.json >/dev/null
        t1=\$(date +%s%N)
        counts=\"\$(ipvsadm -Sn | wc -l) \$(ipset list KUBE-CLUSTER-IP | grep -c tcp:80) \$(ip -o addr show dev kube-ipvs0 | wc -l)\"
        kipvs apply --timings -f $DIR/$1.json -f $DIR/$1.json -f $DIR/$1.json -f $DIR/$1.json \
            >/dev/null 2>$DIR/nochange.t
        kipvs apply --prune --drain-timeout 0 --timings -f $DIR/$1.json -f $DIR/$2.json \
            -f $DIR/$1.json -f $DIR/$2.json >/dev/null 2>$DIR/churn.t
        echo \$((t1 - t0)) \$counts
    "
}

# best FILE FIRST LAST: the least plan+apply nanoseconds of lines
# FIRST..LAST of a --timings log (the machine is shared: the least is the
# cost, the rest is other load).
best() {
    for i in $(seq "$2" "$3"); do step "$1" "$i"; done | sort -n | head -1
}

min() { printf '%s\n' "$@" | sort -n | head -1; }

# step FILE N: plan+apply nanoseconds of the Nth line of a --timings log.
step() {
    sed -n "${2}p" "$1" | awk '{
        for (i = 1; i <= NF; i++) { if ($i == "plan") p = $(i + 1); if ($i == "apply") a = $(i + 1) }
        printf "%.0f\n", (p + a) * 1000000 }'
}

ms() { printf '%d.%03d' $(($1 / 1000000)) $(($1 / 1000 % 1000)); }
ratio() { printf '%d.%01dx' $(($1 / $2)) $(($1 * 10 / $2 % 10)); }

printf '%-9s %10s %10s %6s %10s %6s %10s %6s %10s\n' services "tools ms" "cold ms" "x" \
    "no-chg ms" "cold/" "churn ms" "cold/" "1-shot ms"
parts=()
for n in $SIZES; do
    churn=$((n / 100))
    gen "$n" "s$n" 1
    # 1% churn: the first 1% of the services go, as many new ones come.
    gen "$n" "c$n" $((churn + 1))
    # Each cold measurement twice, tools and kipvs in turn; the least counts.
    read -r t_tools t_ti t_ts t_ta l_tools e_tools a_tools < <(tools "s$n")
    read -r t_cold l_ours e_ours a_ours < <(ours "s$n" "c$n")
    one_a=$(step "$DIR/nochange.t" 1)
    read -r t_tools2 t_ti2 t_ts2 t_ta2 _ < <(tools "s$n")
    read -r t_cold2 _ < <(ours "s$n" "c$n")
    t_tools=$(min "$t_tools" "$t_tools2") t_ti=$(min "$t_ti" "$t_ti2")
    t_ts=$(min "$t_ts" "$t_ts2") t_ta=$(min "$t_ta" "$t_ta2") t_cold=$(min "$t_cold" "$t_cold2")
    if [ "$l_tools $e_tools $a_tools" != "$l_ours $e_ours $a_ours" ]; then
        echo "bench: states differ: tools $l_tools/$e_tools/$a_tools, kipvs $l_ours/$e_ours/$a_ours" >&2
        exit 1
    fi
    t_ki=$(min "$(part "$DIR/s$n-svc.json")" "$(part "$DIR/s$n-svc.json")")
    t_ks=$(min "$(part "$DIR/s$n-set.json")" "$(part "$DIR/s$n-set.json")")
    t_ka=$(min "$(part "$DIR/s$n-addr.json")" "$(part "$DIR/s$n-addr.json")")
    parts+=("$(printf '%-9s %10s %10s %6s %10s %10s %6s %10s %10s %6s' "$n x 3" \
        "$(ms "$t_ti")" "$(ms "$t_ki")" "$(ratio "$t_ti" "$t_ki")" \
        "$(ms "$t_ts")" "$(ms "$t_ks")" "$(ratio "$t_ts" "$t_ks")" \
        "$(ms "$t_ta")" "$(ms "$t_ka")" "$(ratio "$t_ta" "$t_ka")")")
    t_one=$(min "$one_a" "$(step "$DIR/nochange.t" 1)")
    t_nochg=$(best "$DIR/nochange.t" 2 4)
    t_churn=$(best "$DIR/churn.t" 2 4)
    printf '%-9s %10s %10s %6s %10s %6s %10s %6s %10s\n' "$n x 3" "$(ms "$t_tools")" "$(ms "$t_cold")" \
        "$(ratio "$t_tools" "$t_cold")" "$(ms "$t_nochg")" "$(ratio "$t_cold" "$t_nochg")" \
        "$(ms "$t_churn")" "$(ratio "$t_cold" "$t_churn")" "$(ms "$t_one")"
    cat "$DIR/churn.t" >&2
done
printf '\nBy part (each a cold run in a fresh namespace):\n'
printf '%-9s %10s %10s %6s %10s %10s %6s %10s %10s %6s\n' services "ipvsadm-R" "kipvs" "x" \
    "ipset-rst" "kipvs" "x" "ip-batch" "kipvs" "x"
printf '%s\n' "${parts[@]}"
printf '(TCG VM; tools = ipvsadm -R + ipset restore + ip -batch; cold = kipvs apply, a new process;\n'
printf ' no-chg and churn = a later sync of the same syncer, plan with reads + apply; 1-shot = a no-change kipvs apply as a new process;\n'
printf ' each the least of 2 runs (cold, 1-shot, parts) or 3 syncs (no-chg, churn))\n'
rm -rf "$DIR"
