#!/usr/bin/env bash
# test_bulwarkctl_init.sh - `bulwarkctl init` end to end: the files it
# creates and their modes, bulwarkd.conf, certificates that OpenSSL's own
# tools accept, the printed fingerprint, --json, refusal to overwrite, and
# nothing left behind by a failure.
#   test_bulwarkctl_init.sh PATH/TO/bulwarkctl
set -uo pipefail
ctl=$1
work=$(mktemp -d /tmp/bw-test-init-XXXXXX)
trap 'rm -rf "$work"' EXIT
passed=0 failed=0

check() { # check DESCRIPTION COMMAND...
	local what=$1; shift
	if "$@" >/dev/null 2>&1; then
		passed=$((passed + 1)); echo "ok   $what"
	else
		failed=$((failed + 1)); echo "FAIL $what"
	fi
}
mode() { stat -c %a "$1"; }
conf() { sed -n "s/^$1 = //p" "$work/org/bulwarkd.conf"; }

out=$("$ctl" init --data-dir "$work/org" --org "Acme Corp." 2>"$work/err")
check "init succeeds" test $? -eq 0
check "passphrase warning on stderr" grep -q "warning: the CA key's passphrase" "$work/err"
for d in ca tls db ds; do check "dir $d is 0700" test "$(mode "$work/org/$d")" = 700; done
check "ca.key 0600" test "$(mode "$work/org/ca/ca.key")" = 600
check "passphrase 0600" test "$(mode "$work/org/ca/passphrase")" = 600
check "server.key 0600" test "$(mode "$work/org/tls/server.key")" = 600
check "ca.crt 0644" test "$(mode "$work/org/ca/ca.crt")" = 644
check "key encrypted" grep -q "BEGIN ENCRYPTED PRIVATE KEY" "$work/org/ca/ca.key"
check "key opens with the passphrase" openssl pkey -noout \
	-in "$work/org/ca/ca.key" -passin "file:$work/org/ca/passphrase"
check "key does not open without it" bash -c "! openssl pkey -noout \
	-in '$work/org/ca/ca.key' -passin pass:wrong"
check "TLS certificate chains to the CA" openssl verify -x509_strict \
	-purpose sslserver -CAfile "$work/org/ca/ca.crt" "$work/org/tls/server.crt"
check "ds.key 0600" test "$(mode "$work/org/ds/ds.key")" = 600
check "DS key is not encrypted, Ed25519 for suite 1" bash -c \
	"openssl pkey -noout -text -in '$work/org/ds/ds.key' | grep -q ED25519"
check "DS certificate chains to the CA" openssl verify -x509_strict \
	-CAfile "$work/org/ca/ca.crt" "$work/org/ds/ds.crt"
check "DS certificate names the server" bash -c "openssl x509 -noout -ext \
	subjectAltName -in '$work/org/ds/ds.crt' | grep -q 'URI:bulwark:server/localhost'"
check "DS certificate holds the DS key" test \
	"$(openssl pkey -pubout -in "$work/org/ds/ds.key")" = \
	"$(openssl x509 -noout -pubkey -in "$work/org/ds/ds.crt")"
fp=$(openssl x509 -noout -fingerprint -sha256 -in "$work/org/ca/ca.crt" | cut -d= -f2)
check "printed fingerprint is the CA's" grep -q "SHA256 $fp" <<<"$out"

keys=$(grep -v '^#' "$work/org/bulwarkd.conf" | cut -d' ' -f1 | tr '\n' ' ')
want="listen data_dir org_name server_name mls_suite workers tls_cert tls_key ca_cert ca_key ca_passphrase_file admin_socket database log_level activation_ttl activation_max_attempts device_cert_days ds_key ds_cert message_retention max_group_messages key_package_low_water "
check "bulwarkd.conf has exactly the documented keys" test "$keys" = "$want"
check "data_dir is absolute" test "$(conf data_dir)" = "$work/org"
check "defaults" test "$(conf listen) $(conf server_name) $(conf mls_suite)" = "127.0.0.1:8443 localhost 1"
check "relative paths" test "$(conf ca_key) $(conf ca_passphrase_file) $(conf tls_cert)" = "ca/ca.key ca/passphrase tls/server.crt"

before=$(find "$work/org" -type f -exec sha256sum {} + | sort)
"$ctl" init --data-dir "$work/org" --org "Other" >/dev/null 2>&1
check "a second init fails" test $? -eq 1
check "and changes nothing" test "$(find "$work/org" -type f -exec sha256sum {} + | sort)" = "$before"

printf 'a passphrase from the operator\n' >"$work/pass"; chmod 600 "$work/pass"
json=$("$ctl" --json init --data-dir "$work/fips" --org "FIPS Org" --suite 2 \
	--server-name 192.0.2.10 --listen '[::1]:9443' --ca-passphrase-file "$work/pass")
check "--json init succeeds" test $? -eq 0
check "--json output" python3 -c "
import json, sys
j = json.loads(sys.argv[1])
assert j['mls_suite'] == 2 and j['passphrase_generated'] is False
assert j['ca_passphrase_file'] == sys.argv[2] and len(j['ca_fingerprint_sha256']) == 95
" "$json" "$work/pass"
check "no passphrase generated" test ! -e "$work/fips/ca/passphrase"
check "suite 2 key uses PBKDF2" bash -c "openssl asn1parse -in '$work/fips/ca/ca.key' | grep -q PBKDF2"
check "IP server name in SAN" bash -c "openssl x509 -noout -ext subjectAltName \
	-in '$work/fips/tls/server.crt' | grep -q 'IP Address:192.0.2.10'"

chmod 644 "$work/pass"
"$ctl" init --data-dir "$work/bad" --org "Acme" --ca-passphrase-file "$work/pass" 2>/dev/null
check "passphrase readable by others refused" test $? -eq 1
check "failed init leaves nothing behind" test ! -e "$work/bad"
"$ctl" init --data-dir "$work/bad" --org "Acme" --suite 5 2>/dev/null
check "bad suite is a usage error" test $? -eq 2
"$ctl" init --data-dir "$work/bad" --org "Acme" --server-name "bad name" 2>/dev/null
check "bad server name is a usage error" test $? -eq 2
err=$("$ctl" init --json --data-dir "$work/bad" --listen nowhere --org Acme)
check "usage error as JSON" python3 -c "import json,sys; json.loads(sys.argv[1])['error']" "$err"

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
