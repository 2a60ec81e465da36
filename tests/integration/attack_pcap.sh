#!/bin/bash
# Attack sample packets (detection.attack_pcap), end to end, from a mirror replay and from sFlow:
#  - mirror: ../shared/data/mirror-attack-mix.pcap replayed (--pcap, max speed); each of the five
#    victims' attacks has DIR/ID-IP.pcap holding exactly `packets` (200) Ethernet frames, every one
#    to the victim (tshark reads them), shown by `rampartctl attack ID`, in the HTTP API's attack
#    JSON and counted in /metrics; no file for any background host;
#  - sFlow: ../shared/data/flows/sflow.pcap (pmacct, 1 in 8) sent at its recorded pace to a
#    listener; each victim's attack gets a pcap of the sampled headers (at most 30), all to the
#    victim.
# Both daemons run at once (~15 s, the sFlow capture's length). Ports: HTTP 23880, sFlow UDP
# [::1]:23843.
set -u
. "$(dirname "$0")/../lib/rampart.sh"
need_data
need_binaries
command -v tshark >/dev/null || die "tshark is needed to read the files back"
SEND=$REPO/tests/integration/flows_send.py

W=$(mktemp -d /tmp/p5_attack_pcap.XXXXXX)
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	rm -rf "$W"
}
trap cleanup EXIT

conf() { # NAME PACKETS CAPTURE-LINES HTTP
	mkdir -p "$W/$1"
	cat >"$W/$1/rampart.yaml" <<CONF
log_level: info
networks: [192.0.2.0/24, "2001:db8:10::/48"]
thresholds:
  incoming: { pps: 500 }
detection:
  ban_time: 3600
  attack_pcap: { enabled: true, packets: $2, snaplen: 256 }
capture:
$3
storage: { dir: $W/$1/state }
api: { socket: $W/$1/rampart.sock, http: "$4" }
actions: { notify_script: "$W/notify.sh" }
CONF
	"$RAMPARTD" -c "$W/$1/rampart.yaml" --check-config || die "$1: the configuration does not validate"
}
mkdir -p "$W/calls"
printf '#!/bin/sh\ncat >"$(mktemp %s/calls/call.XXXXXX)"\n' "$W" >"$W/notify.sh"
chmod +x "$W/notify.sh"
conf mirror 200 "  pcap: { interfaces: [] }" "127.0.0.1:23880"
conf sflow 30 "  pcap: { interfaces: [] }
  sflow: { listen: [\"[::1]:23843\"] }
  flow_spread: 4" ""

"$RAMPARTD" -c "$W/sflow/rampart.yaml" >"$W/sflow/rampartd.log" 2>&1 &
PIDS+=($!)
wait_for 30 grep -q "listening" "$W/sflow/rampartd.log" || { cat "$W/sflow/rampartd.log"; die "sflow: no listener"; }
python3 "$SEND" "$DATA/flows/sflow.pcap" ::1 23843 >"$W/sflow/sent" &
SENDER=$!
"$RAMPARTD" -c "$W/mirror/rampart.yaml" --pcap "$DATA/mirror-attack-mix.pcap" --pcap-speed max \
	>"$W/mirror/rampartd.log" 2>&1 &
PIDS+=($!)
ctl() { "$RAMPARTCTL" -s "$W/$1/rampart.sock" "${@:2}"; }

# the replay ends, and the last ticks drain the rings
wait_for 30 sh -c "\"$RAMPARTCTL\" -s '$W/mirror/rampart.sock' stats | grep -q finished" ||
	{ cat "$W/mirror/rampartd.log"; die "the replay did not finish within 30 s"; }
sleep 1.5

# $1 daemon, $2 victim prefix, $3 file: every packet's destination is the victim
all_to() {
	local ip=${2%/*} n bad
	n=$(tshark -r "$3" -T fields -e ip.dst -e ipv6.dst 2>/dev/null | wc -l)
	bad=$(tshark -r "$3" -T fields -e ip.dst -e ipv6.dst 2>/dev/null | tr -s '\t' '\n' | grep -v '^$' |
		grep -vxc "$ip")
	[ "$n" -gt 0 ] && [ "$bad" -eq 0 ]
}

# The file's header and records as libpcap wrote them: nanosecond magic, LINKTYPE_ETHERNET,
# snaplen 256, no record over it, timestamps in order and within [MIN, MAX] seconds.
HEADER='
import struct, sys
d = open(sys.argv[1], "rb").read()
magic, _, _, _, _, snap, lt = struct.unpack("<IHHiIII", d[:24])
assert magic == 0xa1b23c4d and lt == 1 and snap == 256, (hex(magic), lt, snap)
o, last = 24, 0
while o < len(d):
    s, ns, cap, ln = struct.unpack("<IIII", d[o:o + 16])
    t = s * 10**9 + ns
    assert cap <= 256 and cap <= ln and t >= last, (cap, ln, t, last)
    assert float(sys.argv[2]) <= s <= float(sys.argv[3]), s
    last, o = t, o + 16 + cap
'

check_victims() { # NAME PACKETS EXACT(1|0) [TSMIN TSMAX]
	local name=$1 want=$2 exact=$3 tsmin=${4:-0} tsmax=${5:-4e9} v id path n
	local tsnote=""
	[ -n "${4:-}" ] && tsnote=" (the capture's, $tsmin..$tsmax)"
	ctl "$name" attacks >"$W/$name/attacks" || fail "$name: attacks"
	for v in $VICTIMS; do
		id=$(awk -v v="$v" '$2 == v { print $1; exit }' "$W/$name/attacks")
		[ -n "$id" ] || { fail "$name: no attack on $v"; continue; }
		ctl "$name" attack "$id" >"$W/$name/attack.$id" || { fail "$name: attack $id"; continue; }
		path=$(sed -n 's/^pcap: \(.*\) (\([0-9]*\) packets.*/\1/p' "$W/$name/attack.$id")
		n=$(sed -n 's/^pcap: \(.*\) (\([0-9]*\) packets.*/\2/p' "$W/$name/attack.$id")
		check "$name: attack $id on $v: pcap $W/$name/state/attacks/$id-${v%/*}.pcap shown" \
			test "$path" = "$W/$name/state/attacks/$id-${v%/*}.pcap"
		[ -r "$path" ] || { fail "$name: $path missing"; continue; }
		if [ "$exact" = 1 ]; then
			check "$name: $v: $want packets in the file and in the details" \
				test "$(tshark -r "$path" 2>/dev/null | wc -l)" -eq "$want" -a "$n" -eq "$want"
		else
			check "$name: $v: 1..$want packets in the file ($n), as the details say" \
				test "$(tshark -r "$path" 2>/dev/null | wc -l)" -eq "$n" -a "$n" -ge 1 -a "$n" -le "$want"
		fi
		check "$name: $v: every packet in the file is to $v" all_to "$name" "$v" "$path"
		check "$name: $v: a nanosecond pcap, Ethernet, snaplen 256, frames <= 256 bytes, times in order$tsnote" \
			python3 -c "$HEADER" "$path" "$tsmin" "$tsmax"
	done
	local files=$(ls "$W/$name/state/attacks" | wc -l)
	check "$name: 5 files, none for a background host ($(ls "$W/$name/state/attacks" | tr '\n' ' '))" test "$files" -eq 5
}

check_victims mirror 200 1 1700000000 1700000010
for v in $VICTIMS; do
	id=$(awk -v v="$v" '$2 == v { print $1; exit }' "$W/mirror/attacks")
	check "notify: the ban's details name the pcap of $v" \
		sh -c "cat '$W'/calls/call.* | grep -qx 'Attack pcap: $W/mirror/state/attacks/$id-${v%/*}.pcap'"
done
curl -s "http://127.0.0.1:23880/metrics" >"$W/metrics" || fail "metrics"
check "mirror: /metrics counts 1000 samples written, 0 dropped" sh -c \
	"grep -q '^rampart_attack_pcap_samples_total{state=\"written\"} 1000\$' '$W/metrics' &&
	 grep -q '^rampart_attack_pcap_samples_total{state=\"dropped\"} 0\$' '$W/metrics'"
curl -s "http://127.0.0.1:23880/api/v1/attacks" >"$W/attacks.json" || fail "api"
check "mirror: the API's attacks carry their pcap path and count" python3 -c "
import json, sys
a = json.load(open('$W/attacks.json'))['attacks']
ok = len(a) == 5 and all(x['pcap'] and x['pcap']['packets'] == 200 and
	x['pcap']['path'].endswith('/%d-%s.pcap' % (x['attack_id'], x['target'].split('/')[0])) for x in a)
sys.exit(0 if ok else 1)"

wait "$SENDER" || fail "the sFlow sender failed"
sleep 2 # the last datagrams' ticks
check_victims sflow 30 0
say "took $SECONDS s"
finish
