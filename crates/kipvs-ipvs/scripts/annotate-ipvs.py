#!/usr/bin/env python3
# Annotates one IPVS generic netlink message (hex of the genl header and
# payload) as commented Rust bytes, for src/wire/tests/golden.rs.
import sys, struct, ipaddress
CMDS={1:'IPVS_CMD_NEW_SERVICE',2:'IPVS_CMD_SET_SERVICE',3:'IPVS_CMD_DEL_SERVICE',4:'IPVS_CMD_GET_SERVICE',5:'IPVS_CMD_NEW_DEST',6:'IPVS_CMD_SET_DEST',7:'IPVS_CMD_DEL_DEST',8:'IPVS_CMD_GET_DEST',9:'IPVS_CMD_NEW_DAEMON',10:'IPVS_CMD_DEL_DAEMON',11:'IPVS_CMD_GET_DAEMON',12:'IPVS_CMD_SET_CONFIG',13:'IPVS_CMD_GET_CONFIG',14:'IPVS_CMD_SET_INFO',15:'IPVS_CMD_GET_INFO',16:'IPVS_CMD_ZERO',17:'IPVS_CMD_FLUSH'}
TOP={1:('IPVS_CMD_ATTR_SERVICE','svc'),2:('IPVS_CMD_ATTR_DEST','dest'),3:('IPVS_CMD_ATTR_DAEMON','daemon'),4:('IPVS_CMD_ATTR_TIMEOUT_TCP','u32'),5:('IPVS_CMD_ATTR_TIMEOUT_TCP_FIN','u32'),6:('IPVS_CMD_ATTR_TIMEOUT_UDP','u32')}
INFO={1:('IPVS_INFO_ATTR_VERSION','u32'),2:('IPVS_INFO_ATTR_CONN_TAB_SIZE','u32')}
SVC={1:('IPVS_SVC_ATTR_AF','af'),2:('IPVS_SVC_ATTR_PROTOCOL','proto'),3:('IPVS_SVC_ATTR_ADDR','addr'),4:('IPVS_SVC_ATTR_PORT','be16'),5:('IPVS_SVC_ATTR_FWMARK','u32'),6:('IPVS_SVC_ATTR_SCHED_NAME','str'),7:('IPVS_SVC_ATTR_FLAGS','flags'),8:('IPVS_SVC_ATTR_TIMEOUT','u32'),9:('IPVS_SVC_ATTR_NETMASK','mask'),10:('IPVS_SVC_ATTR_STATS','stats'),11:('IPVS_SVC_ATTR_PE_NAME','str'),12:('IPVS_SVC_ATTR_STATS64','stats')}
DEST={1:('IPVS_DEST_ATTR_ADDR','addr'),2:('IPVS_DEST_ATTR_PORT','be16'),3:('IPVS_DEST_ATTR_FWD_METHOD','fwd'),4:('IPVS_DEST_ATTR_WEIGHT','u32'),5:('IPVS_DEST_ATTR_U_THRESH','u32'),6:('IPVS_DEST_ATTR_L_THRESH','u32'),7:('IPVS_DEST_ATTR_ACTIVE_CONNS','u32'),8:('IPVS_DEST_ATTR_INACT_CONNS','u32'),9:('IPVS_DEST_ATTR_PERSIST_CONNS','u32'),10:('IPVS_DEST_ATTR_STATS','stats'),11:('IPVS_DEST_ATTR_ADDR_FAMILY','af'),12:('IPVS_DEST_ATTR_STATS64','stats'),13:('IPVS_DEST_ATTR_TUN_TYPE','tun'),14:('IPVS_DEST_ATTR_TUN_PORT','be16'),15:('IPVS_DEST_ATTR_TUN_FLAGS','u16')}
DAEMON={1:('IPVS_DAEMON_ATTR_STATE','state'),2:('IPVS_DAEMON_ATTR_MCAST_IFN','str'),3:('IPVS_DAEMON_ATTR_SYNC_ID','u32'),4:('IPVS_DAEMON_ATTR_SYNC_MAXLEN','u16'),5:('IPVS_DAEMON_ATTR_MCAST_GROUP','in4'),6:('IPVS_DAEMON_ATTR_MCAST_GROUP6','in6'),7:('IPVS_DAEMON_ATTR_MCAST_PORT','u16'),8:('IPVS_DAEMON_ATTR_MCAST_TTL','u8')}
STATS={1:'CONNS',2:'INPKTS',3:'OUTPKTS',4:'INBYTES',5:'OUTBYTES',6:'CPS',7:'INPPS',8:'OUTPPS',9:'INBPS',10:'OUTBPS'}
NEST={'svc':SVC,'dest':DEST,'daemon':DAEMON}
out=[]
af_ctx=[2]
def b(bs): return ', '.join('0x%02x'%x for x in bs)+','
def line(bs, comment, ind): out.append('    '*(ind+1) + b(bs) + ((' // ' + comment) if comment else ''))
def value(kind, v, ind, svc_af):
    pad=(-len(v))%4
    p = v + b'\0'*pad
    def emit(comment):
        # chunk into lines of <=8 bytes
        for i in range(0, len(p), 8 if len(p)>8 else len(p)):
            line(p[i:i+8], comment if i==0 else '', ind)
    if kind=='af': a=struct.unpack('<H',v)[0]; emit({2:'AF_INET',10:'AF_INET6'}.get(a,str(a))+(' + 2 bytes padding' if pad else ''))
    elif kind=='proto': a=struct.unpack('<H',v)[0]; emit({6:'IPPROTO_TCP',17:'IPPROTO_UDP',132:'IPPROTO_SCTP'}.get(a,str(a))+' + 2 bytes padding')
    elif kind=='addr':
        line(v[:4], 'first 4 bytes', ind) if False else None
        if v[4:]==b'\0'*12: line(v[:4], str(ipaddress.IPv4Address(v[:4])), ind); line(v[4:], 'IPv4 still takes 16 bytes', ind)
        else: a=str(ipaddress.IPv6Address(v)); line(v[:8],a,ind); line(v[8:],'',ind)
    elif kind=='be16': emit('%d, big-endian + 2 bytes padding'%struct.unpack('>H',v)[0])
    elif kind=='u16': emit('%d + 2 bytes padding'%struct.unpack('<H',v)[0])
    elif kind=='u8': emit('%d + 3 bytes padding'%v[0])
    elif kind=='tun': emit({0:'IP_VS_CONN_F_TUNNEL_TYPE_IPIP',1:'IP_VS_CONN_F_TUNNEL_TYPE_GUE',2:'IP_VS_CONN_F_TUNNEL_TYPE_GRE'}[v[0]]+' + 3 bytes padding')
    elif kind=='u32': emit('%d'%struct.unpack('<I',v)[0])
    elif kind=='fwd': emit({0:'IP_VS_CONN_F_MASQ',1:'IP_VS_CONN_F_LOCALNODE',2:'IP_VS_CONN_F_TUNNEL',3:'IP_VS_CONN_F_DROUTE'}[struct.unpack('<I',v)[0]])
    elif kind=='state': emit({1:'IP_VS_STATE_MASTER',2:'IP_VS_STATE_BACKUP'}[struct.unpack('<I',v)[0]])
    elif kind=='mask':
        if svc_af==10: emit('prefix length %d (IPv6)'%struct.unpack('<I',v)[0])
        else: emit('%s (network order)'%ipaddress.IPv4Address(v))
    elif kind=='str': emit('"%s\\0"'%v.rstrip(b'\0').decode()+(' + %d bytes padding'%pad if pad else ''))
    elif kind=='flags':
        f,m=struct.unpack('<II',v); line(v[:4],'flags 0x%x'%f,ind); line(v[4:],'mask 0x%x'%m,ind)
    elif kind=='in4': emit(str(ipaddress.IPv4Address(v)))
    elif kind=='in6': a=str(ipaddress.IPv6Address(v)); line(v[:8],a,ind); line(v[8:],'',ind)
    else: raise Exception(kind)
def attrs(buf, table, ind, nestname=None, wide=None):
    i=0; svc_af=2
    while i < len(buf):
        ln,ty=struct.unpack('<HH',buf[i:i+4]); t=ty&0x3fff; flag=' | NLA_F_NESTED' if ty&0x8000 else ''
        v=buf[i+4:i+ln]
        if table=='stats':
            name='IPVS_STATS_ATTR_'+STATS[t]
            line(buf[i:i+4], '%s, length %d'%(name, ln), ind)
            n=struct.unpack('<Q' if len(v)==8 else '<I', v)[0]
            line(v, '%d (u%d)'%(n, len(v)*8), ind)
        else:
            name,kind=table[t]
            line(buf[i:i+4], '%s%s, length %d'%(name,flag,ln), ind)
            if kind in NEST: attrs(v, NEST[kind], ind+1)
            elif kind=='stats': attrs(v,'stats',ind+1)
            else:
                if kind=='af' and table is SVC: svc_af=struct.unpack('<H',v)[0]
                value(kind, v, ind, svc_af)
        i += (ln+3)&~3
def annotate(hexs):
    buf=bytes.fromhex(hexs); cmd=buf[0]
    out.clear()
    line(buf[:4], '%s, version %d, reserved'%(CMDS[cmd], buf[1]), 0)
    attrs(buf[4:], INFO if cmd in (14,15) else TOP, 0)
    return '\n'.join(out)
if __name__=='__main__':
    print(annotate(sys.argv[1]))
