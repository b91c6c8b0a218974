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
# Several conditions, as one quoted expression (status captured before).
check_all() { if eval "$2"; then ok "$1"; else not_ok "$1"; fi; }

echo "TAP version 13"
echo "1..31"

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
check_all "a flipped digit: exit 1, nothing on stdout, one line on stderr" '[ $status = 1 ] && [ ! -s "$work/out" ] && [ "$(wc -l <"$work/err")" = 1 ]'
"$mc3sig" verify -k "$work/ks" <<<"${good/apikeyid=v256/apikeyid=nobody}" >"$work/out" 2>"$work/err2"
st=$?
check_all "an unknown apikeyid: the same exit status and words as a bad signature" '[ $st = 1 ] && [ ! -s "$work/out" ] && cmp -s "$work/err" "$work/err2"'
upper=$(echo "$good" | sed 's/signature=\(.*\)/signature=\U\1/')
"$mc3sig" verify -k "$work/ks" <<<"$upper" >/dev/null 2>&1
check "upper-case hex is not the signature's form: exit 1" [ $? = 1 ]
"$mc3sig" verify -k "$work/ks" <<<'tid=1&user=u&apikeyid=v256&signature=00' >"$work/out" 2>"$work/err"
st=$?
check_all "a missing field: exit 2, named" \
	'[ $st = 2 ] && [ ! -s "$work/out" ] && grep -q "field .ici. is missing" "$work/err"'
cp "$work/ks" "$work/shared.ks" && chmod 644 "$work/shared.ks"
"$mc3sig" verify -k "$work/shared.ks" <<<"$good" >"$work/out" 2>"$work/err"
st=$?
check_all "a world-readable key store: refused, exit 2" '[ $st = 2 ] && [ ! -s "$work/out" ] && grep -q "chmod 600" "$work/err"'

# A co-process: each answer comes before the next request is sent.
python3 - "$mc3sig" "$work/ks" "$good" <<'PY'
import select, subprocess, sys
mc3sig, ks, good = sys.argv[1:]
p = subprocess.Popen([mc3sig, "verify", "-k", ks, "--batch"], stdin=subprocess.PIPE,
                     stdout=subprocess.PIPE)
want = [(good, "ok"), (good, "denied: replayed: this signature verified before"), ("tid=1&tid=2", "malformed: field 'tid' given twice"),
        ("x" * 2000000, "malformed: line longer than 1048576 octets")]
for line, verdict in want:
    p.stdin.write(line.encode() + b"\n")
    p.stdin.flush()
    if not select.select([p.stdout], [], [], 10)[0]:
        sys.exit("no answer within 10 s to: " + line[:40])
    got = p.stdout.readline().decode().rstrip("\n")
    if got != verdict:
        sys.exit(f"{line[:40]!r}: got {got!r}, want {verdict!r}")
p.stdin.close()
status = p.wait()
sys.exit(0 if status == 2 else f"exit status {status}, want 2 (the worst: malformed)")
PY
check "--batch answers a co-process line by line (ok, replay, malformed, too long)" [ $? = 0 ]

# Batch output is one line a request, whatever the input: the issue's
# forged verdict, then the seed corpora and mutations of them.
forged=$(printf 'tid=1&ici=2&user=3&x%%0Aok%%0A=1\ntid=9&ici=EVIL&user=u&apikeyid=v256&signature=%064d\n' 0 |
	"$mc3sig" verify -k "$work/ks" --batch 2>/dev/null)
check_all "a field name with %0A forges no verdict: two requests, two lines, no 'ok'" '[ "$(wc -l <<<"$forged")" = 2 ] && ! grep -qx ok <<<"$forged"'
python3 - "$mc3sig" "$work/ks" userspace/mc3/corpus/request "$good" <<'PY'
import json, os, random, subprocess, sys
mc3sig, ks, corpus, good = sys.argv[1:]
rnd = random.Random(7)
seeds = [good.encode(), b'{"tid":"1","ici":"2","user":"3"}']
for name in sorted(os.listdir(corpus)):
    seeds += open(os.path.join(corpus, name), "rb").read().split(b"\n")
nasty = [b"%0A", b"%0D", b"\r", b"\x1b[2J", b"\x00", b"%00", b"\\n", b"\\u000a", b"\"", b"'",
         b"\xff", b"\xc3", b"ok", b"&", b"=", b"{", b"}", b"%", b"\\"]
lines = []
for i in range(3000):
    line = bytearray(rnd.choice(seeds))
    for _ in range(rnd.randint(0, 4)):
        at = rnd.randint(0, len(line))
        line[at:at] = rnd.choice(nasty)
    lines.append(bytes(line).replace(b"\n", b"%0A"))
data = b"\n".join(lines) + b"\n"
for args in (["verify", "-k", ks, "--batch"], ["verify", "-k", ks, "--batch", "-f", "json"],
             ["verify", "-k", ks, "--batch", "--json", "-u"],
             ["sign", "-k", ks, "--apikeyid", "v256", "--batch", "-u"],
             ["sign", "-k", ks, "--apikeyid", "v256", "--batch", "-f", "json", "-u"]):
    out = subprocess.run([mc3sig] + args, input=data, capture_output=True).stdout
    got = out.split(b"\n")
    if got[-1] != b"" or len(got) - 1 != len(lines):
        sys.exit(f"{args}: {len(got) - 1} lines out for {len(lines)} requests")
    for line in got[:-1]:
        # JSON may carry UTF-8 text; nothing may carry a control character.
        if any(c < 0x20 or c == 0x7f for c in line) or (
                any(c >= 0x80 for c in line) and not ("sign" in args and "json" in args)):
            sys.exit(f"{args}: a line not printable ASCII: {line[:60]!r}")
        if "--json" in args:
            json.loads(line)
        elif "json" in args and "sign" in args and not line.startswith(b"malformed: "):
            json.loads(line.decode())
        elif "verify" in args and line != b"ok" and not line.startswith((b"denied: ", b"malformed: ")):
            sys.exit(f"{args}: not a verdict: {line[:60]!r}")
PY
check "3000 corpus requests and mutations: one printable line out for each, every mode" [ $? = 0 ]

# Batch input and status.
printf '%s\n%s' "$good" "${good/tid=t1/tid=t2}" >"$work/two"
out=$("$mc3sig" verify -k "$work/ks" --batch "$work/two" </dev/null 2>"$work/err")
st=$?
want=$(printf 'ok\ndenied: signature does not verify')
check_all "--batch FILE reads FILE; a last line without a newline is answered; exit 1 when one is denied" \
	'[ $st = 1 ] && [ "$out" = "$want" ] && grep -q "2 request(s): 1 ok, 1 denied, 0 malformed, 0 error" "$work/err"'
out=$(printf '%s\n' "${good/tid=t1/tid=t3}" | "$mc3sig" sign -k "$work/ks" --apikeyid v256 --batch - |
	"$mc3sig" verify -k "$work/ks" --batch -)
st=$?
check_all "- is stdin; a batch all ok exits 0" '[ $st = 0 ] && [ "$out" = ok ]'

# Usage and input errors that pointed the wrong way.
"$mc3sig" verify -k "$work/ks" --hash sha1 <<<"$good" >/dev/null 2>"$work/err"
st=$?
check_all "an option that does not apply is refused: exit 2" '[ $st = 2 ] && grep -q "does not apply" "$work/err"'
"$mc3sig" verify -k "$work/ks" 'tid=1&ici=2&user=3' 2>"$work/err"
st=$?
check_all "a query given as FILE says to use stdin" '[ $st = 2 ] && grep -q "on stdin" "$work/err"'
signed4=$(echo 'tid=t4&ici=abc&user=u' | "$mc3sig" sign -k "$work/ks" --apikeyid v256)
"$mc3sig" verify -k "$work/ks" -q <<<"https://cmp.example/resolve?$signed4" >"$work/out" 2>&1
st=$?
check_all "a whole URL verifies by its query; -q prints nothing" '[ $st = 0 ] && [ ! -s "$work/out" ]'
signed5=$(echo '?tid=t5&ici=abc&user=u' | "$mc3sig" sign -k "$work/ks" --apikeyid v256)
check "a leading ? is the query's, not a field's" [ "${signed5:0:7}" = "tid=t5&" ]
echo 'tid=1&ici=2&user=3' | "$mc3sig" sign -k "$work/ks" --apikeyid nobody >/dev/null 2>"$work/err"
st=$?
check_all "sign with an apikeyid the key store lacks says so (not 'malformed')" \
	'[ $st = 2 ] && grep -q "has no key with apikeyid .nobody." "$work/err" && ! grep -q malformed "$work/err"'
printf 'old sha256 hex cr hex:%s not-after=2000-01-01T00:00:00Z\n' "$k0b" >"$work/old.ks"
echo 'tid=1&ici=2&user=3' | "$mc3sig" sign -k "$work/old.ks" --apikeyid old 2>"$work/err"
st=$?
out=$(echo 'tid=1&ici=2&user=3' | "$mc3sig" sign -k "$work/old.ks" --apikeyid old --batch 2>/dev/null)
check_all "an expired key: 'cannot sign', and in a batch 'error:', not the request's fault" \
	'[ $st = 2 ] && grep -q "cannot sign: no key with apikeyid .old. is valid now" "$work/err" &&
	 [ "$out" = "error: no key with apikeyid '"'"'old'"'"' is valid now" ]'
echo 'tid=1&ici=2&user=3&colour=%ff' | "$mc3sig" sign -k "$work/ks" --apikeyid v256 -u -f json >/dev/null 2>&1
check "--pass-unknown refuses octets that would make the JSON invalid" [ $? = 2 ]

# What verify hands on.
signed6=$(echo 'tid=t6&ici=abc&user=u&cc=FR' | "$mc3sig" sign -k "$work/ks" --apikeyid v256)
out=$("$mc3sig" verify -k "$work/ks" --signed-only <<<"$signed6" 2>"$work/err")
check_all "--signed-only prints what cr signed, tid and ici, and nothing else" \
	'[ "$out" = "tid=t6&ici=abc" ] && [ ! -s "$work/err" ]'
signed7=$(echo 'tid=t7&ici=abc&user=u&cc=FR' | "$mc3sig" sign -k "$work/ks" --apikeyid v256)
"$mc3sig" verify -k "$work/ks" <<<"$signed7" >/dev/null 2>"$work/err"
check "verify of a whole cr request warns which fields are not signed" \
	grep -q "user, apikeyid, cc are not signed" "$work/err"
bytes=$(echo 'tid=ab&ici=c%C3%A9&user=u' | "$mc3sig" signed-bytes -k "$work/ks" --apikeyid v256 | od -An -c | tr -d ' \n')
check "signed-bytes writes the exact octets: tid then ici" [ "$bytes" = 'abc303251' ]
sig=$(echo 'tid=ab&ici=c&user=u' | "$mc3sig" sign -k "$work/ks" --apikeyid v256 | sig_of)
mac=$(echo 'tid=ab&ici=c&user=u' | "$mc3sig" signed-bytes -k "$work/ks" --apikeyid v256 |
	openssl dgst -sha256 -mac HMAC -macopt "hexkey:$k0b" -r | cut -d' ' -f1)
check "signed-bytes piped to openssl dgst gives the signature" [ "$sig" = "$mac" ]

# Replay across restarts, and its bounds.
echo "$signed4" | "$mc3sig" verify -k "$work/ks" -j "$work/journal" -q
first=$?
echo "$signed4" | "$mc3sig" verify -k "$work/ks" -j "$work/journal" 2>"$work/err" >/dev/null
st=$?
check_all "a replay journal refuses a replay after a restart" '[ $first = 0 ] && [ $st = 1 ] && grep -q "replayed" "$work/err"'
"$mc3sig" verify -k "$work/ks" --rate 1000000 --window 86400 <<<"$good" >/dev/null 2>"$work/err"
st=$?
check_all "--rate x --window beyond what can be remembered: exit 2" '[ $st = 2 ] && grep -q "at most" "$work/err"'

# Keys.
"$mc3sig" keygen --apikeyid new -o "$work/new.ks" && "$mc3sig" keygen --apikeyid new -o "$work/new.ks" 2>"$work/err"
st=$?
check_all "keygen -o writes mode 600 and never overwrites" \
	'[ $st = 2 ] && [ "$(stat -c %a "$work/new.ks")" = 600 ] && [ "$(wc -l <"$work/new.ks")" = 1 ] &&
	 grep -q "exists: not overwritten" "$work/err"'
out=$("$mc3sig" keygen --apikeyid $'evil sha1 hex cr hex:41414141414141414141414141414141\nvictim' 2>"$work/err")
st=$?
"$mc3sig" keygen --apikeyid x --hash $'x\e]0;pwned\a\e[2J' 2>>"$work/err"
st2=$?
printable() { ! LC_ALL=C grep -q '[^[:print:]]' "$work/err"; }
check_all "keygen refuses an apikeyid or hash that would inject a line, and prints no escape" \
	'[ $st = 2 ] && [ $st2 = 2 ] && [ -z "$out" ] && printable'
# A batch that has answered has its keys loaded: look at it then.
coproc verifier { exec "$mc3sig" verify -k "$work/ks" --batch 2>/dev/null; }
echo "$signed7" >&"${verifier[1]}"
read -r -t 30 answer <&"${verifier[0]}"
limits=$(grep "Max core file size" "/proc/$verifier_PID/limits")
eval "exec ${verifier[1]}>&-"
wait "$verifier_PID"
# Hard as well as soft: ASan and many shells set only the soft limit.
core=$(awk '{ print $5, $6 }' <<<"$limits")
check_all "no core file may hold the keys: RLIMIT_CORE is 0, hard too, while they are loaded" \
	'[ "$answer" = ok ] && [ "$core" = "0 0" ]'

echo "# $failed of $n failed"
[ $failed = 0 ]
