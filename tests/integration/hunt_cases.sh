#!/bin/sh
# tidewatch hunt on the captures the project's generator made (tests/data/pcap,
# made by tests/gen: `tw_pcapgen cases`), one per encapsulation and protocol,
# against the generator's answer key beside each (<case>.expect.json):
#   - every expected match is an alert for that indicator on that flow;
#   - a flow that should match nothing raises no alert;
#   - the flow's encapsulation stack holds every tunnel value the case planted
#     (VLAN ids, MPLS labels, GRE key, ERSPAN session, VXLAN VNI, GTP TEID,
#     outer addresses).
set -u
bin=${TW_BIN:?TW_BIN must point at the tidewatch binary}
dir=${TW_TEST_DATA:?}/pcap
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fails=0
passes=0

for exp in "$dir"/*.expect.json; do
    c=$(basename "$exp" .expect.json)
    "$bin" hunt -q --flows -i "$dir/intel.json" -o "$work/$c.json" "$dir/$c.pcap" >/dev/null 2>"$work/$c.err"
    st=$?
    if [ "$st" -gt 1 ]; then
        echo "FAIL $c: hunt exited $st"; sed 's/^/    /' "$work/$c.err"; fails=$((fails + 1)); continue
    fi
    # Prints one line per unmet expectation.
    jq -r -n --slurpfile x "$exp" --slurpfile e "$work/$c.json" '
        ($e) as $E | $x[0].flows[] as $f
        | ( ($f.matches[] | . as $m
              | select(($E | any(.event_type == "alert" and .tidewatch.indicator.id == $m.indicator
                                 and .src_ip == $f.client and .dest_ip == $f.server)) | not)
              | "no alert for \($m.pattern) on \($f.client) -> \($f.server)"),
            (select(($f.matches | length) == 0)
              | select($E | any(.event_type == "alert" and .src_ip == $f.client and .dest_ip == $f.server))
              | "unexpected alert on \($f.client) -> \($f.server)"),
            ( ([$E[] | select(.event_type == "flow" and .src_ip == $f.client and .dest_ip == $f.server)
                | .tidewatch.encapsulation[]?]) as $have
              | $f.encap[]? as $l
              | ( if $l.kind == "vlan" then {vlan_id: $l.vid}
                  elif $l.kind == "mpls" then {label: $l.label}
                  elif $l.kind == "gre" and ($l.key != null) then {key: $l.key}
                  elif $l.kind == "erspan" then {session_id: $l.session}
                  elif $l.kind == "vxlan" then {vni: $l.vni}
                  elif $l.kind == "gtpu" then {teid: $l.teid}
                  elif ($l.kind == "ipv4" or $l.kind == "ipv6") then {src: $l.src, dst: $l.dst}
                  else empty end ) as $want
              | select(($have | any(. as $h | $want | to_entries | all(.value == $h[.key]))) | not)
              | "flow \($f.client) -> \($f.server): encapsulation lacks \($want | tostring)")
          )' >"$work/$c.miss" 2>"$work/$c.jqerr"
    if [ -s "$work/$c.jqerr" ]; then
        echo "FAIL $c: cannot check (jq: $(head -1 "$work/$c.jqerr"))"; fails=$((fails + 1))
    elif [ -s "$work/$c.miss" ]; then
        echo "FAIL $c:"; sed 's/^/    /' "$work/$c.miss"; fails=$((fails + 1))
    else
        echo "ok   $c"; passes=$((passes + 1))
    fi
done
echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ] && [ "$passes" -gt 0 ]
