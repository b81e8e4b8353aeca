#!/bin/sh
# tidewatch hunt on the real captures in ../shared/data/pcap, checked against
# the expectations Suricata's own test suite has for them (each folder's
# test.yaml): inner and outer addresses of tunnels, VLAN ids, flow counters,
# SSH/TLS/DNS metadata, JA4. Skipped (77) when the shared data is absent.
#
# Where tidewatch differs from Suricata by design it is said here: Suricata
# also writes a flow event for the outer tunnel (IP-in-IP, GRE, VXLAN); tidewatch
# writes one flow per inner conversation and reports the tunnel as its
# "tidewatch.encapsulation" stack. Events are oriented client -> server.
set -u
bin=${TW_BIN:?TW_BIN must point at the tidewatch binary}
data=${TW_SHARED_DATA:-}/pcap
if [ ! -d "$data" ]; then
    echo "SKIP: $data not found (the shared sample data lives beside the project)"
    exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fails=0
passes=0

ok() { printf 'ok   %s\n' "$1"; passes=$((passes + 1)); }
bad() { printf 'FAIL %s\n' "$1"; fails=$((fails + 1)); }

# bundle FILE PATTERN...: a bundle with one indicator per pattern.
bundle() {
    out=$1; shift
    i=0
    printf '{"type":"bundle","id":"bundle--6b1a9c1e-8f0d-4c52-9a7e-3d2f1b0c4e5a","objects":[' >"$out"
    for p in "$@"; do
        [ $i -gt 0 ] && printf ',' >>"$out"
        printf '{"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-%012d","created":"2025-01-01T00:00:00.000Z","modified":"2025-01-01T00:00:00.000Z","name":"case %d","indicator_types":["malicious-activity"],"pattern":"%s","pattern_type":"stix","valid_from":"2025-01-01T00:00:00Z"}' \
            "$i" "$i" "$p" >>"$out"
        i=$((i + 1))
    done
    printf ']}\n' >>"$out"
}

# hunt CASE PATTERN...: runs the hunt on the folder's capture with flows and metadata.
hunt() {
    c=$1; shift
    bundle "$work/intel.json" "$@"
    "$bin" hunt -q --flows --metadata -i "$work/intel.json" -o "$work/$c.json" \
        --stats-json "$work/$c.stats" "$data/$c" >/dev/null 2>"$work/$c.err"
}

# check DESCRIPTION CASE JQ-EXPRESSION: the expression, over all events (slurped), must be true.
check() {
    if jq -s -e "$3" "$work/$2.json" >/dev/null 2>&1; then ok "$2: $1"; else bad "$2: $1"; fi
}

hunt bug-4571-01 "[ipv4-addr:value = '10.1.0.4']"
check "one alert on the inner flow of IPv4-in-IPv4" bug-4571-01 \
    '[.[] | select(.event_type=="alert")] | length == 1 and .[0].src_ip=="10.1.0.3" and .[0].dest_ip=="10.1.0.4" and .[0].proto=="TCP"'
check "the alert carries the outer IPv4 tunnel" bug-4571-01 \
    '[.[] | select(.event_type=="alert")][0].tidewatch.encapsulation | any(.layer=="ipv4" and .src=="10.1.0.1" and .dst=="10.1.0.2")'
hunt bug-4571-01 "[ipv4-addr:value = '10.1.0.2']"
check "the inner flow says flow.alerted: true, as Suricata's does" bug-4571-01 \
    'any(.[]; .event_type=="flow" and .src_ip=="10.1.0.3" and .flow.alerted==true)'
check "an outer (tunnel) address is matched too" bug-4571-01 \
    '[.[] | select(.event_type=="alert")] | length == 1 and .[0].tidewatch.matched.field=="tunnel.ip.dst"'

hunt bug-4571-03 "[ipv6-addr:value = '2001:db8:85a3::8a2e:370:8335']"
check "IPv6-in-IPv6: inner alert, outer IPv6 stack" bug-4571-03 \
    '[.[] | select(.event_type=="alert")] | length == 1 and .[0].src_ip=="2001:db8:85a3::8a2e:370:8334" and (.[0].tidewatch.encapsulation | any(.layer=="ipv6" and .src=="2001:db8:85a3::8a2e:370:7334"))'
hunt bug-4571-04 "[ipv6-addr:value = '2001:db8:85a3::8a2e:370:7335']"
check "IPv6-in-IPv4" bug-4571-04 \
    '[.[] | select(.event_type=="alert")] | length == 1 and (.[0].tidewatch.encapsulation | any(.layer=="ipv4" and .src=="10.1.0.1" and .dst=="10.1.0.2"))'
hunt bug-4571-06 "[ipv4-addr:value = '10.1.0.2']"
check "IPv4-in-IPv6" bug-4571-06 \
    '[.[] | select(.event_type=="alert")] | length == 1 and .[0].src_ip=="10.1.0.1" and (.[0].tidewatch.encapsulation | any(.layer=="ipv6" and .src=="2001:db8:85a3::8a2e:370:7334"))'

hunt bug-5633-gre-02 "[ipv4-addr:value = '203.0.113.200']"
check "no alert, and SSH inside GRE: client OpenSSH_3.6.1p1, server OpenSSH_3.1p1" bug-5633-gre-02 \
    '([.[] | select(.event_type=="alert")] | length == 0) and any(.[]; .event_type=="flow" and .ssh.client.software_version=="OpenSSH_3.6.1p1" and .ssh.server.software_version=="OpenSSH_3.1p1")'

hunt decode-erspan-typeI-02 "[ipv4-addr:value = '100.95.2.201']"
check "ERSPAN type I: two ICMP flows, VLAN 1011 and 999 inside" decode-erspan-typeI-02 \
    '[.[] | select(.event_type=="flow")] | length == 2 and any(.[]; .src_ip=="100.95.2.201" and .proto=="ICMP" and (.tidewatch.encapsulation | any(.vlan_id==1011))) and any(.[]; .src_ip=="100.95.3.105" and (.tidewatch.encapsulation | any(.vlan_id==999)))'

hunt decode-erspan-typeII-01 "[ipv4-addr:value = '23.0.0.3']"
check "ERSPAN type II: ICMP 23.0.0.2 -> 23.0.0.3, 2 packets each way, VLAN 23" decode-erspan-typeII-01 \
    'any(.[]; .event_type=="flow" and .src_ip=="23.0.0.2" and .dest_ip=="23.0.0.3" and .proto=="ICMP" and .flow.pkts_toserver==2 and .flow.pkts_toclient==2 and (.tidewatch.encapsulation | any(.vlan_id==23)))'
check "ERSPAN type II: the flow alerts once" decode-erspan-typeII-01 \
    '[.[] | select(.event_type=="alert")] | length == 1'

hunt decode-sctp-01 "[ipv4-addr:value = '192.168.170.8']"
check "SCTP flow 192.168.170.56:7 -> 192.168.170.8:7 alerts" decode-sctp-01 \
    'any(.[]; .event_type=="alert" and .proto=="SCTP" and .src_port==7 and .dest_port==7) and any(.[]; .event_type=="flow" and .proto=="SCTP" and .src_ip=="192.168.170.56")'

hunt decode-sll2-01 "[ipv4-addr:value = '192.0.2.1']"
if [ "$(jq '.packets' "$work/decode-sll2-01.stats")" = 5 ] && [ "$(jq '.flows' "$work/decode-sll2-01.stats")" -ge 1 ]; then
    ok "decode-sll2-01: 5 packets decoded from Linux cooked v2 into a TCP flow"
else
    bad "decode-sll2-01: SLL2 decoding"; cat "$work/decode-sll2-01.stats"
fi

hunt detect-vlan-id "[ipv4-addr:value = '192.0.2.1']"
check "VLAN ids 200, 300 and 400 on the flows" detect-vlan-id \
    '[.[] | select(.event_type=="flow") | .tidewatch.encapsulation[]? | .vlan_id] as $v | ($v | index(200)) != null and ($v | index(300)) != null and ($v | index(400)) != null'

hunt dns_dns-tcp-www-google-com "[domain-name:value = 'www.google.com']"
check "DNS over TCP: request and response for www.google.com (rrtype A), and the domain alerts" dns_dns-tcp-www-google-com \
    '([.[] | select(.event_type=="dns")] | length == 2) and any(.[]; .dns.type=="request" and .dns.rrtype=="A") and any(.[]; .dns.type=="response") and any(.[]; .event_type=="dns" and .dns.rrname=="www.google.com") and any(.[]; .event_type=="alert" and .tidewatch.matched.field=="dns.query")'

hunt ja4-tls "[network-traffic:x_ja4 = 't12i1810s1_27d4652c4487_06a4338d0495']"
check "JA4 equals Suricata's, and a JA4 indicator alerts" ja4-tls \
    'any(.[]; .event_type=="tls" and .tls.ja4=="t12i1810s1_27d4652c4487_06a4338d0495") and any(.[]; .event_type=="alert" and .tidewatch.matched.field=="tls.ja4")'

hunt ja4-tls "[x509-certificate:hashes.'SHA-1' = '3a0b3b23152c445c27ac6a0c41d6fa74afb4095b']"
check "the server certificate (SHA-1 from tshark) alerts, and EVE carries its fingerprint" ja4-tls \
    'any(.[]; .event_type=="alert" and .tidewatch.matched.field=="tls.cert.sha1" and .tls.fingerprint=="3a:0b:3b:23:15:2c:44:5c:27:ac:6a:0c:41:d6:fa:74:af:b4:09:5b")'

hunt ssh-banner-only "[ipv4-addr:value = '192.0.2.1']"
check "SSH banners: client OpenSSH_for_Windows_7.7, server OpenSSH_7.4" ssh-banner-only \
    'any(.[]; .event_type=="flow" and .ssh.client.software_version=="OpenSSH_for_Windows_7.7" and .ssh.server.software_version=="OpenSSH_7.4")'

hunt tls_tls-client-hello-frag-01 "[domain-name:value = 'www.google.com']"
check "ClientHello over many segments: SNI www.google.com, one alert" tls_tls-client-hello-frag-01 \
    '([.[] | select(.event_type=="tls" and .tls.sni=="www.google.com")] | length == 1) and ([.[] | select(.event_type=="alert")] | length == 1)'

hunt vxlan-decoder-02 "[ipv4-addr:value = '192.0.2.1']"
check "VXLAN: the inner ICMP flow has 4 packets each way" vxlan-decoder-02 \
    'any(.[]; .event_type=="flow" and .proto=="ICMP" and .flow.pkts_toserver==4 and .flow.pkts_toclient==4 and (.tidewatch.encapsulation | any(.layer=="vxlan")))'

hunt defrag_bug-6887-defrag-ipv4-tcp-syn "[ipv4-addr:value = '2.2.2.2']"
if [ "$(jq '.fragments_held' "$work/defrag_bug-6887-defrag-ipv4-tcp-syn.stats")" -ge 1 ]; then ok "IPv4 fragments held for reassembly"; else bad "IPv4 fragments"; fi
check "the reassembled IPv4 TCP SYN alerts once" defrag_bug-6887-defrag-ipv4-tcp-syn \
    '[.[] | select(.event_type=="alert")] | length == 1 and .[0].proto=="TCP"'

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
