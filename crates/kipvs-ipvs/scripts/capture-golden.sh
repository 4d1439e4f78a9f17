#!/bin/bash
# Captures the golden bytes of src/wire/tests/golden.rs: runs the real
# ipvsadm (1.31) under strace inside the test VM (Linux 6.1) and prints each
# command with its netlink traffic.
#
#   mkdir /tmp/cap && cp /usr/bin/strace crates/kipvs-ipvs/scripts/capture-golden.sh /tmp/cap/
#   mv /tmp/cap/capture-golden.sh /tmp/cap/run.sh
#   /work/shared/tools/vmrun /tmp/cap > capture.log
#   python3 crates/kipvs-ipvs/scripts/extract-netlink.py capture.log > golden.txt
#   python3 crates/kipvs-ipvs/scripts/annotate-ipvs.py HEX   # one message, commented
#
# The order matters: the sync daemon refuses to start while a real server
# of the other family exists, and a tunnelled real server takes the
# service's port.
ip link add d0 type dummy; ip link set d0 up
ip addr add 192.168.1.1/24 dev d0; ip addr add 10.0.0.1/32 dev d0
ip -6 addr add 2001:db8::1/64 dev d0 nodad
T() { echo "=== CMD: ipvsadm $*"; ./strace -f -e trace=sendmsg,recvmsg -xx -s 65536 -o /tmp/st ipvsadm "$@"; echo "=== RC $?"; cat /tmp/st; }
T -A -t 10.0.0.1:80 -s rr
T -A -u [2001:db8::1]:53 -s sh -b sh-fallback,sh-port -p 600 -M 64
T -A -f 42 -s mh -b mh-port
T -A -u 10.0.0.2:5060 -s wlc -p 60 -M 255.255.255.0 --pe sip -o
T -A --sctp-service 10.0.0.3:9999 -s lblcr
T -E -t 10.0.0.1:80 -s wrr
T -a -t 10.0.0.1:80 -r 192.168.1.1:8080 -m -w 3 -x 100 -y 10
T -a -t 10.0.0.1:80 -r 192.168.1.2:8080 -i --tun-type gue --tun-port 6080 --tun-remcsum
T -a -t 10.0.0.1:80 -r [2001:db8::2]:8080 -i
T -a -f 42 -r 192.168.1.3 -g -w 0
T -e -t 10.0.0.1:80 -r 192.168.1.1:8080 -m -w 5
T -d -t 10.0.0.1:80 -r 192.168.1.2:80
T -d -t 10.0.0.1:80 -r [2001:db8::2]:80
busybox nc -lk -p 8080 -e echo hello >/dev/null 2>&1 &
sleep 0.5
for i in 1 2 3; do echo ping | busybox nc -w 1 10.0.0.1 80 ; done; echo "nc rc=$?"
sleep 0.5
cat /proc/net/ip_vs_conn
T -Ln
T -Ln --stats --exact
T -L -n -t 10.0.0.1:80
T -Sn
T --set 900 120 300
T -L --timeout
T --start-daemon master --mcast-interface d0 --syncid 5 --sync-maxlen 1400 --mcast-group 224.0.0.81 --mcast-port 8848 --mcast-ttl 2
T --start-daemon backup --mcast-interface d0 --syncid 7 --mcast-group ff02::1:81
T -L --daemon
T --stop-daemon master
T --stop-daemon backup
T -Z -t 10.0.0.1:80
T -Z
T -D --sctp-service 10.0.0.3:9999
T -Lnc
T -D -t 10.0.0.1:80
T -L -n -t 10.0.0.1:80
T -C
T -v

# The second capture: tunnelled and IPv6 real servers in a dump.
ipvsadm -C
ipvsadm -A -t 10.0.0.1:80 -s rr
ipvsadm -a -t 10.0.0.1:80 -r 192.168.1.2:8080 -i --tun-type gue --tun-port 6080 --tun-remcsum -w 2 -x 50 -y 5
ipvsadm -a -t 10.0.0.1:80 -r [2001:db8::2]:8080 -i
ipvsadm -A -t [2001:db8::1]:443 -s wlc
ipvsadm -a -t [2001:db8::1]:443 -r [2001:db8::3]:8443 -m -w 4
T -Ln
