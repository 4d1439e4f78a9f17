#!/usr/bin/env python3
import re,sys
# Print, per ipvsadm command, each IPVS (type 0x20: the id the VM kernel gave
# the family; check the CTRL_CMD_GETFAMILY reply if it differs) netlink message sent and received
# (recvmsg without MSG_PEEK), as: dir type flags payload-hex
cur=None
out=[]
for line in open(sys.argv[1], errors='replace'):
    if line.startswith('=== CMD:'):
        print(line.strip()); continue
    if line.startswith('=== RC'):
        print(line.strip()); continue
    m=re.search(r'(sendmsg|recvmsg)\(', line)
    if not m: 
        if not re.match(r'^\d+ ', line): print(line.rstrip())
        continue
    if 'MSG_PEEK' in line: continue
    d='>' if m.group(1)=='sendmsg' else '<'
    # iterate netlink messages in the iov
    for mm in re.finditer(r'\{nlmsg_len=(\d+), nlmsg_type=([^,]+), nlmsg_flags=([^,]+), nlmsg_seq=\d+, nlmsg_pid=-?\d+\}(?:, (\"[^\"]*\"|\{error=[^}]*\}[^]]*))?', line):
        typ=mm.group(2).split()[0]
        if typ=='0x10' : continue
        pay=mm.group(4) or ''
        if pay.startswith('"'): pay=pay[1:-1].replace('\\x','')
        print(d, typ, mm.group(3), pay[:100000])
