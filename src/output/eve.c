/*
 * eve.c: Suricata EVE JSON pieces (see include/tidewatch/eve.h).
 */
#include "tidewatch/eve.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tidewatch/err.h"
#include "tidewatch/time.h"

void tw_eve_timestamp(int64_t ts_ns, char out[TW_EVE_TS_LEN])
{
    int64_t sec = ts_ns / 1000000000, nsec = ts_ns % 1000000000;
    struct tw_time t;
    char base[TW_TIME_STRLEN];

    if (nsec < 0) {
        nsec += 1000000000;
        sec--;
    }
    t.sec = sec;
    t.nsec = (uint32_t)nsec;
    t.frac_digits = 6;
    {
        int n = tw_time_format(&t, 6, base); /* 2025-10-13T22:04:11.123456Z */
        memcpy(out, base, (size_t)n - 1);    /* without the Z */
        memcpy(out + n - 1, "+0000", 6);
    }
}

const char *tw_eve_proto(uint8_t ipproto, char buf[8])
{
    switch (ipproto) {
        case 1:
            return "ICMP";
        case 6:
            return "TCP";
        case 17:
            return "UDP";
        case 47:
            return "GRE";
        case 58:
            return "IPv6-ICMP";
        case 132:
            return "SCTP";
        default:
            (void)snprintf(buf, 8, "%u", (unsigned)ipproto);
            return buf;
    }
}

static int add_ip_pair(json_t *o, const struct tw_layer *l)
{
    char a[TW_IP_STRLEN], b[TW_IP_STRLEN];

    tw_ip_format(&l->u.ip.src, a);
    tw_ip_format(&l->u.ip.dst, b);
    return json_object_set_new(o, "src", json_string(a)) |
           json_object_set_new(o, "dst", json_string(b));
}

json_t *tw_eve_encapsulation(const struct tw_layer *layers, size_t n)
{
    json_t *arr = json_array();

    for (size_t i = 0; arr != NULL && i < n; i++) {
        const struct tw_layer *l = &layers[i];
        json_t *o = json_object();
        int bad = o == NULL;

        switch (l->kind) {
            case TW_L_VLAN:
                bad |= json_object_set_new(o, "layer", json_string("vlan")) |
                       json_object_set_new(o, "vlan_id", json_integer(l->u.vlan.vid));
                break;
            case TW_L_MPLS:
                bad |= json_object_set_new(o, "layer", json_string("mpls")) |
                       json_object_set_new(o, "label", json_integer(l->u.mpls.label));
                break;
            case TW_L_PPPOE:
                bad |= json_object_set_new(o, "layer", json_string("pppoe")) |
                       json_object_set_new(o, "session_id", json_integer(l->u.pppoe.session));
                break;
            case TW_L_IPV4:
            case TW_L_IPV6:
                bad |= json_object_set_new(
                               o, "layer", json_string(l->kind == TW_L_IPV4 ? "ipv4" : "ipv6")) |
                       add_ip_pair(o, l);
                break;
            case TW_L_GRE:
                bad |= json_object_set_new(o, "layer", json_string("gre"));
                if (l->u.gre.has_key)
                    bad |= json_object_set_new(o, "key", json_integer(l->u.gre.key));
                break;
            case TW_L_ERSPAN:
                bad |= json_object_set_new(o, "layer",
                               json_string(l->u.erspan.version >= 2 ? "erspan3" : "erspan2")) |
                       json_object_set_new(o, "session_id", json_integer(l->u.erspan.session));
                if (l->u.erspan.vlan != 0)
                    bad |= json_object_set_new(o, "vlan_id", json_integer(l->u.erspan.vlan));
                break;
            case TW_L_VXLAN:
                bad |= json_object_set_new(o, "layer", json_string("vxlan")) |
                       json_object_set_new(o, "vni", json_integer(l->u.vxlan.vni));
                break;
            case TW_L_GTPU:
                bad |= json_object_set_new(o, "layer", json_string("gtpu")) |
                       json_object_set_new(o, "teid", json_integer(l->u.gtpu.teid));
                break;
            case TW_L_UDP:
                bad |= json_object_set_new(o, "layer", json_string("udp")) |
                       json_object_set_new(o, "dest_port", json_integer(l->u.l4.dport));
                break;
            default:
                /* Link headers (Ethernet, cooked, loopback) say nothing about a tunnel. */
                json_decref(o);
                continue;
        }
        if (bad || json_array_append_new(arr, o) != 0) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

int tw_eve_write(FILE *out, const json_t *event)
{
    char *s = json_dumps(event, JSON_COMPACT | JSON_PRESERVE_ORDER);
    int rc = TW_OK;

    if (s == NULL)
        return TW_ENOMEM;
    if (fputs(s, out) == EOF || fputc('\n', out) == EOF)
        rc = TW_EIO;
    free(s);
    return rc;
}
