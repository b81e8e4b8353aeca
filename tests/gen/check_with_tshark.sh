#!/bin/sh
# Checks the generated captures with tshark (run by hand, not by ctest).
# Usage: tests/gen/check_with_tshark.sh [DIR]   (default tests/data/pcap)
#
# For every DIR/*.pcap: tshark must decode every packet without a malformed
# packet, an error-level expert item or a bad checksum (IPv4, TCP, UDP and
# SCTP CRC-32C are verified), and each planted value of <case>.expect.json
# (TLS SNI, JA3, DNS name, HTTP host/URI/user agent, SSH banner, GRE key,
# ERSPAN session, VXLAN VNI, GTP TEID, MPLS label, VLAN id) must show up in
# tshark's fields. Prints one line per case and exits 1 on any failure.
set -u
dir=${1:-"$(dirname "$0")/../data/pcap"}
command -v tshark >/dev/null || { echo "tshark not installed (scripts/install-deps.sh --bench)"; exit 77; }
fail=0
prefs="-o ip.check_checksum:TRUE -o tcp.check_checksum:TRUE -o udp.check_checksum:TRUE -o sctp.checksum:CRC-32c"
fields="-e frame.protocols -e tls.handshake.extensions_server_name -e tls.handshake.ja3
 -e tls.handshake.ja3_full -e dns.qry.name -e dns.a -e dns.aaaa -e dns.cname -e http.host
 -e http.request.uri -e http.user_agent -e ssh.protocol -e gre.key -e erspan.spanid -e vxlan.vni
 -e gtp.teid -e mpls.label -e vlan.id -e ieee8021ad.id -e pppoe.session_id -e ip.src -e ip.dst -e ipv6.src -e ipv6.dst
 -e tcp.srcport -e tcp.dstport -e udp.srcport -e udp.dstport"
for pcap in "$dir"/*.pcap; do
    case=$(basename "$pcap" .pcap)
    expect="$dir/$case.expect.json"
    # shellcheck disable=SC2086
    bad=$(tshark -r "$pcap" $prefs -V 2>/dev/null |
        grep -E 'Malformed|\[Expert Info \(Error|\[incorrect|Checksum Status: Bad|checksum status: Bad' | head -3)
    # shellcheck disable=SC2086
    out=$(tshark -r "$pcap" $prefs -T fields -E separator=' ' -E aggregator=' ' $fields 2>/dev/null)
    missing=""
    if [ -f "$expect" ]; then
        # Planted strings and numbers, as the expectation file names them.
        for v in $(grep -oE '"(sni|qname|host|uri|user_agent|ja3_md5|ja3)":"[^"]*"' "$expect" |
                sed 's/^"[a-z_0-9]*":"//; s/"$//' | tr ' ' '\001' | sort -u); do
            v=$(printf '%s' "$v" | tr '\001' ' ')
            printf '%s\n' "$out" | grep -qF -- "$v" || missing="$missing [$v]"
        done
        for v in $(grep -oE '"(key|session|vni|teid|label|vid)":[0-9]+' "$expect" | sed 's/.*://' | sort -u); do
            printf '%s\n' "$out" | grep -qwE -- "$v|0x0*$(printf '%x' "$v")" || missing="$missing [$v]"
        done
        if grep -q '"ssh"' "$expect"; then
            printf '%s\n' "$out" | grep -qF 'SSH-2.0-OpenSSH_9.2p1' || missing="$missing [ssh client]"
            printf '%s\n' "$out" | grep -qF 'SSH-2.0-dropbear_2022.83' || missing="$missing [ssh server]"
        fi
    fi
    stack=$(printf '%s\n' "$out" | awk '{print $1}' | sort | uniq -c | sort -rn | head -1 | awk '{print $2}')
    if [ -n "$bad" ] || [ -n "$missing" ]; then
        echo "FAIL $case: $bad missing:$missing"
        fail=1
    else
        echo "ok   $case  $stack"
    fi
done
exit $fail
