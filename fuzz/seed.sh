#!/usr/bin/env bash
# (Re)creates the seed inputs of every fuzz target in fuzz/corpus/<target>/seed-*, from the
# fixtures in tests/fixtures and the samples the tests use. Needs bash and openssl.
# Run from anywhere: `bash fuzz/seed.sh`. Existing corpus files are kept.
set -euo pipefail
fuzz=$(cd "$(dirname "$0")" && pwd)
keys="$fuzz/../tests/fixtures/keys"
notes="$fuzz/../tests/fixtures/notifications"
corpus="$fuzz/corpus"

seed() { # seed TARGET NAME < content
  mkdir -p "$corpus/$1"
  cat > "$corpus/$1/seed-$2"
}
b64() { base64 -w0 "$1"; }
sign() { # sign KEY.pem < message  → base64 RSA-SHA256
  openssl dgst -sha256 -sign "$1" | base64 -w0
}

# --- keys: every fixture key and certificate, the prefixed base64 forms, odd PEM ------------
for f in "$keys"/*.pem "$keys"/*.der "$keys"/*.p12 "$keys"/*.b64; do
  seed keys "$(basename "$f")" < "$f"
done
printf 'private.pkcs8://%s' "$(cat "$keys/merchant_pkcs8.b64")" | seed keys prefix-pkcs8
printf 'private.pkcs1://%s' "$(cat "$keys/merchant_pkcs1.b64")" | seed keys prefix-pkcs1
printf 'public.spki://%s' "$(cat "$keys/platform_public_spki.b64")" | seed keys prefix-spki
printf 'public.pkcs1://%s' "$(cat "$keys/platform_public_pkcs1.b64")" | seed keys prefix-public-pkcs1
sed 's/$/\r/' "$keys/merchant_pkcs1.pem" | seed keys crlf-pkcs1
{ echo "Bag Attributes"; echo "    friendlyName: x"; cat "$keys/platform_cert.pem" "$keys/merchant_pkcs8.pem"; } | seed keys preamble-two-blocks
printf -- '-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nAAAA\n-----END RSA PRIVATE KEY-----\n' | seed keys legacy-encrypted
printf -- '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n' | seed keys truncated
printf -- '-----BEGIN WEIRD LABEL-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA\n-----END WEIRD LABEL-----\n' | seed keys odd-label

# --- xml: APIv2 messages from the tests, hostile shapes, JSON objects for to_xml --------------
v2key=192006250b4c09247ec02edce69f6a2d
md5sign() { printf '%s&key=%s' "$1" "$v2key" | openssl md5 -r | cut -d' ' -f1 | tr a-f A-F; }
params='appid=wxd930ea5d5a258f4f&body=test&device_info=1000&mch_id=10000100&nonce_str=ibuaiVcKdpRxkhJA&return_code=SUCCESS'
printf '<xml><appid>wxd930ea5d5a258f4f</appid><mch_id>10000100</mch_id><device_info>1000</device_info><body>test</body><nonce_str>ibuaiVcKdpRxkhJA</nonce_str><return_code>SUCCESS</return_code><sign>%s</sign></xml>' \
  "$(md5sign "$params")" | seed xml signed-notification
printf '<xml><return_code>SUCCESS</return_code><detail><![CDATA[<b>&"</b>]]></detail><total_fee>1</total_fee></xml>' | seed xml cdata
printf '<xml><a>x\001y &#20013;&lt;&amp;</a><b><![CDATA[<z>]]></b></xml>' | seed xml refs
printf '<xml><detail><goods><item><id>1</id><name>iPhone</name></item><item><id>2</id><name>iPad</name></item></goods></detail><attach><![CDATA[a]]]]><![CDATA[>b<c]]></attach></xml>' | seed xml nested-list
printf '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><xml><a>&xxe;</a></xml>' | seed xml xxe
printf '<xml><refund_fee>18446744073709551616</refund_fee><a/><b></b><!-- c --></xml>' | seed xml empty-and-comment
printf '<xml><a>1</a>' | seed xml unclosed
for depth in 31 32 200; do
  { printf '<xml>'; for ((i = 0; i < depth; i++)); do printf '<a>'; done; printf 'x'
    for ((i = 0; i < depth; i++)); do printf '</a>'; done; printf '</xml>'; } | seed xml "depth-$depth"
done
{ printf '<xml>'; for ((i = 0; i < 3000; i++)); do printf '<a>'; done; } | seed xml depth-3000-unclosed
printf '{"appid":"wx2421b1c4370ec43b","body":"腾讯充值中心-QQ会员充值","attach":"a]]>b<c","detail":{"goods":[{"id":"1","name":"iPhone"},{"id":"2","name":"iPad"}]},"total_fee":1,"flag":true,"empty":null}' | seed xml json-object
printf '{"d":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":"leaf"}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}' | seed xml json-deep

# --- notification: the fixtures as header lines, an empty line, the raw body -----------------
note() { # note NAME HEADERS.json BODY
  { sed -n 's/^ *"\(Wechatpay-[A-Za-z]*\|Content-Type\)",$/\1/p; s/^ *"\([^"]*\)"$/\1/p' "$2" | paste -d'\t' - - | sed 's/\t/: /'
    printf '\n'; cat "$3"; }
}
note n "$notes/transaction.headers.json" "$notes/transaction.body.json" | seed notification transaction
note n "$notes/refund.headers.json" "$notes/refund.body.json" | seed notification refund
note n "$notes/transaction.headers.json" "$notes/transaction.body.json" \
  | sed 's/^Wechatpay-Signature: .*/Wechatpay-Signature: WECHATPAY\/SIGNTEST\/abc/' | seed notification probe
note n "$notes/transaction.headers.json" "$notes/transaction.body.json" \
  | sed 's/^Wechatpay-Nonce: .*/Wechatpay-Nonce: a\x1b[2J/' | seed notification control-chars

# --- response: answers signed with the fixture keys, at the fixtures' time -------------------
ts=1700000000 nonce=fdasfjihihihlkja484w
pub_id=PUB_KEY_ID_0114232134912410000000000000
platform_serial=$(cat "$keys/platform_cert.serial")
answer() { # answer NAME "STATUS METHOD PATH" BODY KEY SERIAL [EXTRA-HEADER]
  local signature
  signature=$(printf '%s\n%s\n%s\n' "$ts" "$nonce" "$3" | sign "$4")
  { printf '%s\nWechatpay-Timestamp: %s\nWechatpay-Nonce: %s\nWechatpay-Signature: %s\nWechatpay-Serial: %s\nRequest-ID: 08F0AB1C0610\n' \
      "$2" "$ts" "$nonce" "$signature" "$5"
    [ -n "${6:-}" ] && printf '%s\n' "$6"
    printf '\n%s' "$3"; } | seed response "$1"
}
answer certificates "200 GET v3/certificates" '{"data":[]}' "$keys/pubkey_private.pem" "$pub_id"
answer order "200 GET v3/pay/transactions/id/{transaction_id}" '{"trade_state":"SUCCESS","amount":{"total":1}}' \
  "$keys/platform_key.pem" "$platform_serial"
answer close "204 POST v3/pay/transactions/out-trade-no/{out_trade_no}/close" '' "$keys/pubkey_private.pem" "$pub_id"
bill='交易时间,公众账号ID
`2026-11-26 00:00:00,`wx2421b1c4370ec43b'
bill_sha1=$(printf '%s' "$bill" | openssl sha1 -r | cut -d' ' -f1)
statement_sig=$(printf '%s\n%s\n{"sha1":"%s"}\n' "$ts" "$nonce" "$bill_sha1" | sign "$keys/pubkey_private.pem")
printf '200 GET v3/statements\nWechatpay-Timestamp: %s\nWechatpay-Nonce: %s\nWechatpay-Signature: %s\nWechatpay-Serial: %s\nWechatpay-Statement-Sha1: %s\n\n%s' \
  "$ts" "$nonce" "$statement_sig" "$pub_id" "$bill_sha1" "$bill" | seed response statement
printf '200 GET v3/billdownload/file\nContent-Type: application/octet-stream\n\n%s' "$bill" | seed response download
printf '400 POST v3/pay/transactions/native\nRequest-ID: 08F0AB1C0610\nContent-Type: application/json\n\n{"code":"PARAM_ERROR","message":"参数错误","detail":{"field":"/amount/total","issue":"x"}}' | seed response api-error
printf '401 GET v3/certificates\n\n{"code":"SIGN_ERROR","message":"a\\u001b[2J\\r\\nforged","detail":{"sign_information":{}}}' | seed response api-error-control
printf '200 GET v3/certificates\nWechatpay-Timestamp: 1700000000\nWechatpay-Timestamp: 1700000001\n\n{}' | seed response repeated-header

# --- template: paths, variables and queries as the tests write them --------------------------
printf 'GET v3/pay/transactions/id/{transaction_id}\ntransaction_id=4200000001\n&mchid=1230000109' | seed template order
printf 'GET v3/t/{id}\nid=a/b c?d%%e中' | seed template encoded
printf 'GET v3/{+path}/{n}\npath=x/y?z\nn:42' | seed template reserved
printf 'GET v3/{+v}#x\nv=a#b/c' | seed template fragment
printf 'GET v3/a b/中/%%41/%%zz' | seed template literal
printf 'GET v3/{n,n}\nn:42' | seed template list
printf 'GET v3/bill/tradebill\n?bill_date=2026-11-26&tar_type=GZIP#x' | seed template raw-query
printf 'GET v3/x/file?token=abc\n&a=1' | seed template query-in-path
printf 'GET v3/q\n&note=a b&c=d/中\n&n:5\n&t:true\n&f:false\n&skip:null\n+typed=a b' | seed template query-object
printf 'POST v3/brand/partner/card-member/user-points/sync\n>{"out_request_no":"100002322019090134234sfdf","point_balance":1000}' | seed template post

# --- emulator_request: multipart bodies, Authorization headers, uploads, signed requests -----
boundary=wechatpay-0123456789abcdef01234567
printf 'Mmultipart/form-data; boundary=%s\n--%s\r\nContent-Disposition: form-data; name="meta"\r\nContent-Type: application/json\r\n\r\n{"filename":"logo.png","sha256":"00"}\r\n--%s\r\nContent-Disposition: form-data; name="file"; filename="logo.png"\r\nContent-Type: image/png\r\n\r\n\x89PNG\r\n\x1a\n\r\n--%s--\r\n' \
  "$boundary" "$boundary" "$boundary" "$boundary" | seed emulator_request multipart
printf 'Mmultipart/form-data; boundary="b"\n--b\r\nContent-Disposition: form-data; name="a"\r\n\r\nx\r\n--b' | seed emulator_request multipart-truncated
printf 'AWECHATPAY2-SHA256-RSA2048 mchid="1900000109",serial_no="%s",timestamp="1700000000",nonce_str="abc",signature="c2ln"\nGET /v3/certificates\n' \
  "$(cat "$keys/merchant_cert.serial")" | seed emulator_request authorization
printf 'AWECHATPAY2-SHA256-RSA2048 mchid=1900000109,signature\nPOST /v3/merchant/media/upload\n{}' | seed emulator_request authorization-malformed
printf 'Rlogo.png\n\n\n\x89PNG\r\n\x1a\n' | seed emulator_request upload
printf 'Rx.png"; name="meta\nsubmission_file\nitem_id=1&b=2\r\n--x\n--wechatpay-\r\n' | seed emulator_request upload-odd-names
printf 'SGET v3/certificates\n' | seed emulator_request signed-get
printf 'SPOST v3/pay/transactions/native\n{"appid":"wxd678efh567hg6787","amount":{"total":1}}' | seed emulator_request signed-post

# --- stored_certificates: a stored set (first byte 1: its MAC is made good by the target) ------
pem_json() { awk '{printf "%s\\n", $0}' "$1"; }
stored() { printf '{"version":1,"id":"%s","downloaded_at_ms":%s,"certificates":[%s],"mac":"%s"}' "$@"; }
{ printf '\001'; stored a1 1764806400000 "\"$(pem_json "$keys/platform_cert.pem")\"" 00; } | seed stored_certificates one-certificate
{ printf '\001'; stored a2 0 "\"$(pem_json "$keys/platform_cert.pem")\",\"$(pem_json "$keys/merchant_cert.pem")\"" 00; } | seed stored_certificates two-certificates
{ printf '\001'; stored a3 18446744073709551615 '"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"' 00; } | seed stored_certificates broken-pem
{ printf '\000'; stored a4 1 '' 0000; } | seed stored_certificates bad-mac
printf '\001{"version":2}' | seed stored_certificates other-version

for t in "$corpus"/*/; do echo "$(basename "$t"): $(ls "$t" | grep -c '^seed-') seeds"; done
