# Writes TAXII 2.1 envelopes of STIX 2.1 indicators for bench/run_hub.sh.
# Usage: awk -v out=DIR -v prefix=NAME -v tag=HEX4 -v total=N -v per=M -f gen_envelopes.awk
# Writes ceil(N / M) files DIR/NAME-00000.json ... with M objects each (the
# last one may be shorter). Object k (0-based over the whole run) has the id
# indicator--HHHHLLLL-TAG-4000-8000-<k as 12 hex digits>: unique per (tag, k),
# a valid UUIDv4 shape, and HHHHLLLL = k * 2654435761 mod 2^32 (a permutation
# of k), so ids arrive in random order, as real UUIDv4s do, and the store's
# (collection, id, version) index is not filled at its right edge only. Every object is a valid indicator with
# a name, a description, labels and one of six pattern kinds (IPv4, IPv6,
# domain, URL, SHA-256 file hash, e-mail address with a port condition);
# two in three are TLP:GREEN, one in three TLP:AMBER (TLP 2.0 markings).
# POSIX awk (mawk or gawk); only integers below 2^31 go through printf %x.
# The ids stay unique for up to 2^48 objects; the mixing is exact below 3 million.
BEGIN {
    if (out == "" || prefix == "" || tag == "" || total <= 0 || per <= 0) {
        print "gen_envelopes.awk: needs out, prefix, tag, total and per" > "/dev/stderr"
        exit 2
    }
    green = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
    amber = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
    author = "identity--5e1a7c6e-94a1-4c1b-8e0f-0f3b0c2d9a11"
    split("Tidal Surge,Grey Heron,Salt Marsh,Low Water,Spring Tide,Neap Current", camp, ",")
    split("malicious-activity,anomalous-activity,attribution,compromised", itype, ",")
    files = 0
    for (k = 0; k < total; k++) {
        if (k % per == 0) {
            if (files > 0) {
                printf "]}\n" > f
                close(f)
            }
            f = sprintf("%s/%s-%05d.json", out, prefix, files++)
            printf "{\"objects\":[" > f
        } else {
            printf "," > f
        }
        c = camp[k % 6 + 1]
        kind = k % 6
        a = int(k / 65536) % 256; b = int(k / 256) % 256; d = k % 256
        if (kind == 0) {
            pat = sprintf("[ipv4-addr:value = '10.%d.%d.%d']", a, b, d)
            what = "C2 server address"
        } else if (kind == 1) {
            pat = sprintf("[ipv6-addr:value = '2001:db8:%x:%x::%x']", a, b, d)
            what = "C2 server IPv6 address"
        } else if (kind == 2) {
            pat = sprintf("[domain-name:value = 'h%x-%s.example.net']", k, tag)
            what = "Beaconing domain"
        } else if (kind == 3) {
            pat = sprintf("[url:value = 'https://cdn%d.example.com/static/%x/update.php?id=%d']", k % 97, k, k % 1000)
            what = "Payload download URL"
        } else if (kind == 4) {
            pat = sprintf("[file:hashes.'SHA-256' = '%08x%08x%08x%08x%08x%08x%08x%08x']", k, 2654435 * (k % 800) % 2147483647, k % 65521, 305419896, k * 7 % 2147483647, 16777619, k % 4093, 3735928559 % 2147483647)
            what = "Loader sample"
        } else {
            pat = sprintf("[email-message:from_ref.value = 'billing%d@invoices.example.org'] AND [network-traffic:dst_port = %d]", k % 5000, 25 + k % 3)
            what = "Phishing sender"
        }
        mix = (k * 2654435761) % 4294967296 # exact: below 2^53 for k < 3 million
        printf "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--%04x%04x-%s-4000-8000-%04x%08x\"", int(mix / 65536), mix % 65536, tag, int(k / 4294967296), k % 4294967296 > f
        printf ",\"created\":\"2025-06-%02dT08:%02d:%02d.000Z\",\"modified\":\"2025-06-%02dT08:%02d:%02d.000Z\"", k % 28 + 1, k % 60, int(k / 60) % 60, k % 28 + 1, k % 60, int(k / 60) % 60 > f
        printf ",\"created_by_ref\":\"%s\",\"name\":\"%s: %s %d\"", author, c, what, k > f
        printf ",\"description\":\"%s seen in campaign %s; reported by a partner operator on %d sensors, confidence raised after sandbox detonation.\"", what, c, 1 + k % 40 > f
        printf ",\"indicator_types\":[\"%s\"],\"pattern\":\"%s\",\"pattern_type\":\"stix\"", itype[k % 4 + 1], pat > f
        printf ",\"valid_from\":\"2025-06-01T00:00:00Z\",\"labels\":[\"%s\",\"bench\"],\"confidence\":%d", tolower(substr(c, 1, 4)), 50 + k % 50 > f
        printf ",\"object_marking_refs\":[\"%s\"]}", (k % 3 == 2) ? amber : green > f
    }
    if (files > 0) {
        printf "]}\n" > f
        close(f)
    }
    print files
}
