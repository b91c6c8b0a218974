#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# mc3sig as a user runs it, against `openssl dgst` as an independent oracle.
# TAP on stdout. usage: mc3sig_test.sh MC3SIG
set -uo pipefail
mc3sig=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
umask 077
n=0 failed=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; shift; printf '# %s\n' "$@"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else not_ok "$what"; fi; }

echo "TAP version 13"
echo "1..11"

k0b=$(printf '0b%.0s' $(seq 20))
cat >"$work/ks" <<EOF
# RFC 4231 and RFC 2202 keys
v256 sha256 hex cr hex:$k0b
v1 sha1 hex cr hex:$k0b
v64 sha256 base64 cr hex:$k0b
EOF
sig_of() { sed -n 's/.*signature=\([^&]*\).*/\1/p'; }
check "RFC 4231 case 1, HMAC-SHA-256, through the CLI" \
	[ "$(echo 'tid=Hi&ici=+There&user=u' | "$mc3sig" sign -k "$work/ks" --apikeyid v256 | sig_of)" \
	  = b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7 ]
check "RFC 2202 case 1, HMAC-SHA-1, through the CLI" \
	[ "$(echo 'tid=Hi+Ther&ici=e&user=u' | "$mc3sig" sign -k "$work/ks" --apikeyid v1 | sig_of)" \
	  = b617318655057264e28bc0b6fb378c8ef146be00 ]
check "RFC 4231 case 1 in base64, as JSON" \
	[ "$(echo '{"tid":"Hi Ther","ici":"e","user":"u"}' | "$mc3sig" sign -k "$work/ks" --apikeyid v64 -f json)" \
	  = '{"tid":"Hi Ther","ici":"e","user":"u","apikeyid":"v64","signature":"sDRMYdjbOFNcqK/OrwvxK4gdwgDJgz2nJuk3bC4yz/c="}' ]

# 1000 random keys, tids and icis over every hash and both encodings: the
# oracle signs, mc3sig verifies; and mc3sig signs, the oracle checks.
python3 - "$work" <<'PY'
import base64, os, random, subprocess, sys, urllib.parse
work = sys.argv[1]
rnd = random.Random(int.from_bytes(os.urandom(8), "little"))
hashes = ["sha1", "sha256", "sha384", "sha512"]
alphabet = [chr(c) for c in range(0x20, 0x7f)] + ["é", "ü", "€", "中"]
with open(f"{work}/oracle.ks", "w") as ks, open(f"{work}/oracle.req", "w") as req, \
     open(f"{work}/plain.req", "w") as plain:
    for i in range(1000):
        h, enc = hashes[i % 4], ["hex", "base64"][i // 4 % 2]
        key = os.urandom(rnd.randint(16, 64))
        tid = "".join(rnd.choice(alphabet) for _ in range(rnd.randint(1, 40)))
        ici = "".join(rnd.choice(alphabet) for _ in range(rnd.randint(1, 40)))
        mac = subprocess.run(["openssl", "dgst", "-" + h, "-mac", "HMAC", "-macopt",
                              "hexkey:" + key.hex(), "-binary"], input=(tid + ici).encode(),
                             capture_output=True, check=True).stdout
        sig = mac.hex() if enc == "hex" else base64.b64encode(mac).decode()
        ks.write(f"k{i} {h} {enc} cr hex:{key.hex()}\n")
        q = urllib.parse.quote
        req.write(f"tid={q(tid)}&ici={q(ici)}&user=u&apikeyid=k{i}&signature={q(sig, safe='')}\n")
        plain.write(f"k{i} {sig} tid={q(tid)}&ici={q(ici)}&user=u\n")
PY
verdicts=$("$mc3sig" verify -k "$work/oracle.ks" --batch <"$work/oracle.req" | sort | uniq -c)
check "1000 oracle signatures (SHA-1/256/384/512, hex and base64) all verify" \
	[ "$verdicts" = "   1000 ok" ]
bad=0
while read -r id sig text; do
	got=$(echo "$text" | "$mc3sig" sign -k "$work/oracle.ks" --apikeyid "$id" | sig_of)
	got=$(printf '%b' "${got//%/\\x}")
	[ "$got" = "$sig" ] || bad=$((bad + 1))
done < <(awk 'NR % 25 == 1' "$work/plain.req")
check "mc3sig's own signatures equal the oracle's (40 of them, every kind)" [ $bad = 0 ]

good=$(echo 'tid=t1&ici=abc&user=u' | "$mc3sig" sign -k "$work/ks" --apikeyid v256)
sig=${good##*signature=}
digit=0
[ "${sig:5:1}" != 0 ] || digit=1
flipped=${good%signature=*}signature=${sig:0:5}$digit${sig:6}
"$mc3sig" verify -k "$work/ks" <<<"$flipped" >"$work/out" 2>"$work/err"
status=$?
check "a flipped digit: exit 1, nothing on stdout, one line on stderr" \
	[ $status = 1 ] && [ ! -s "$work/out" ] && [ "$(wc -l <"$work/err")" = 1 ]
"$mc3sig" verify -k "$work/ks" <<<"${good/apikeyid=v256/apikeyid=nobody}" >"$work/out" 2>"$work/err2"
check "an unknown apikeyid: the same exit status and words as a bad signature" \
	[ $? = 1 ] && [ ! -s "$work/out" ] && cmp -s "$work/err" "$work/err2"
upper=$(echo "$good" | sed 's/signature=\(.*\)/signature=\U\1/')
"$mc3sig" verify -k "$work/ks" <<<"$upper" >/dev/null 2>&1
check "upper-case hex is not the signature's form: exit 1" [ $? = 1 ]
"$mc3sig" verify -k "$work/ks" <<<'tid=1&user=u&apikeyid=v256&signature=00' >"$work/out" 2>"$work/err"
check "a missing field: exit 2, named" \
	[ $? = 2 ] && [ ! -s "$work/out" ] && grep -q "field 'ici' is missing" "$work/err"
cp "$work/ks" "$work/shared.ks" && chmod 644 "$work/shared.ks"
"$mc3sig" verify -k "$work/shared.ks" <<<"$good" >"$work/out" 2>"$work/err"
check "a world-readable key store: refused, exit 2" \
	[ $? = 2 ] && [ ! -s "$work/out" ] && grep -q "chmod 600" "$work/err"

# A co-process: each answer comes before the next request is sent.
python3 - "$mc3sig" "$work/ks" "$good" <<'PY'
import select, subprocess, sys
mc3sig, ks, good = sys.argv[1:]
p = subprocess.Popen([mc3sig, "verify", "-k", ks, "--batch"], stdin=subprocess.PIPE,
                     stdout=subprocess.PIPE)
want = [(good, "ok"), (good, "denied: replayed: this signature verified before"), ("tid=1&tid=2", "malformed: field 'tid' given twice"),
        ("x" * 2000000, "malformed: line too long")]
for line, verdict in want:
    p.stdin.write(line.encode() + b"\n")
    p.stdin.flush()
    if not select.select([p.stdout], [], [], 10)[0]:
        sys.exit("no answer within 10 s to: " + line[:40])
    got = p.stdout.readline().decode().rstrip("\n")
    if got != verdict:
        sys.exit(f"{line[:40]!r}: got {got!r}, want {verdict!r}")
p.stdin.close()
sys.exit(p.wait())
PY
check "--batch answers a co-process line by line (ok, replay, malformed, too long)" [ $? = 0 ]
echo "# $failed of $n failed"
[ $failed = 0 ]
