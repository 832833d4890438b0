#!/bin/sh
# Test PKI for TLS: a CA, server and client certificates signed by it, and a client certificate from
# a second, untrusted CA. For local TLS experiments and the conformance tests (Conformance/tls.py);
# never for production.
#
#   Tools/make-certs.sh [--force] OUTDIR        (`make certs` = Tools/make-certs.sh certs)
#
# Writes into OUTDIR (keys unencrypted, PKCS#8 PEM "BEGIN PRIVATE KEY", RSA 2048, SHA-256, 10 years):
#   ca_certificate.pem, ca_key.pem                    trusted test CA   (CN=Warren Test CA)
#   server_certificate.pem, server_key.pem            CN=localhost, SAN DNS:localhost, IP:127.0.0.1,
#                                                     IP:::1; serial 0x1001
#   server2_certificate.pem, server2_key.pem          the same names, its own key, serial 0x1002
#                                                     (certificate reloading)
#   client_certificate.pem, client_key.pem            C=GB, O=Warren Conformance, OU=TLS, CN=client;
#                                                     SAN DNS:client.example.com,
#                                                     email:client@example.com; serial 0x2001
#   stranger_certificate.pem, stranger_key.pem        CN=stranger (trusted CA, but no such user)
#   special_certificate.pem, special_key.pem          a subject that needs RFC 4514 escaping:
#                                                     O="Warren, Inc.", OU=" padded ", CN=a+b;
#                                                     emailAddress=special@example.com
#   untrusted_ca_certificate.pem, untrusted_ca_key.pem  a second CA nobody trusts
#   untrusted_client_certificate.pem, untrusted_client_key.pem   CN=client, signed by the untrusted CA
#
# Idempotent: if every file is already there it does nothing (unless --force); otherwise it makes
# the whole set afresh (all certificates must come from the same CA).
set -eu

force=0
out=""
for arg in "$@"; do
    case "$arg" in
        --force) force=1 ;;
        -h|--help) sed -n '2,/^set -eu/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
        -*) echo "make-certs.sh: unknown option $arg" >&2; exit 2 ;;
        *) [ -z "$out" ] || { echo "make-certs.sh: one OUTDIR only" >&2; exit 2; }; out="$arg" ;;
    esac
done
[ -n "$out" ] || { echo "usage: $0 [--force] OUTDIR" >&2; exit 2; }
command -v openssl >/dev/null 2>&1 || { echo "make-certs.sh: openssl not found" >&2; exit 1; }

NAMES="ca server server2 client stranger special untrusted_ca untrusted_client"
mkdir -p "$out"
if [ "$force" -eq 0 ]; then
    missing=0
    for n in $NAMES; do
        [ -s "$out/${n}_certificate.pem" ] && [ -s "$out/${n}_key.pem" ] || missing=1
    done
    if [ "$missing" -eq 0 ]; then
        echo "make-certs.sh: certificates already in $out (use --force to remake them)"
        exit 0
    fi
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/warren-certs.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
DAYS=3650

key() { # key NAME
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$work/$1_key.pem" 2>/dev/null
}

# Extension sections, one file; each certificate picks its section.
cat > "$work/ext.cnf" <<'EOF'
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

[server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1, IP:::1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

[client]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
subjectAltName = DNS:client.example.com, email:client@example.com
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

[plainclient]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF

# The escaped subject comes from a config file: `-subj` has its own escaping rules for '+' and ','.
cat > "$work/special.cnf" <<'EOF'
[req]
prompt = no
distinguished_name = dn
[dn]
O = Warren, Inc.
OU = " padded "
CN = a+b
emailAddress = special@example.com
EOF

selfsigned() { # selfsigned NAME SUBJECT
    key "$1"
    openssl req -new -x509 -sha256 -days "$DAYS" -key "$work/$1_key.pem" -subj "$2" -set_serial 1 \
        -config "$work/ext.cnf" -extensions ca -out "$work/$1_certificate.pem"
}

signed() { # signed NAME ISSUER SERIAL SECTION (-subj SUBJECT | -config FILE)
    name=$1 issuer=$2 serial=$3 section=$4
    shift 4
    key "$name"
    openssl req -new -sha256 -key "$work/${name}_key.pem" "$@" -out "$work/$name.csr"
    openssl x509 -req -sha256 -days "$DAYS" -in "$work/$name.csr" \
        -CA "$work/${issuer}_certificate.pem" -CAkey "$work/${issuer}_key.pem" -set_serial "$serial" \
        -extfile "$work/ext.cnf" -extensions "$section" -out "$work/${name}_certificate.pem" 2>/dev/null
}

selfsigned ca "/CN=Warren Test CA/O=Warren Conformance"
selfsigned untrusted_ca "/CN=Warren Untrusted CA/O=Nobody"
signed server ca 0x1001 server -subj "/CN=localhost/O=Warren Conformance"
signed server2 ca 0x1002 server -subj "/CN=localhost/O=Warren Conformance"
signed client ca 0x2001 client -subj "/C=GB/O=Warren Conformance/OU=TLS/CN=client"
signed stranger ca 0x2002 plainclient -subj "/CN=stranger/O=Warren Conformance"
signed special ca 0x2003 plainclient -config "$work/special.cnf"
signed untrusted_client untrusted_ca 0x3001 client -subj "/C=GB/O=Warren Conformance/OU=TLS/CN=client"

for n in $NAMES; do
    openssl verify -CAfile "$work/$(case $n in untrusted*) echo untrusted_ca ;; *) echo ca ;; esac)_certificate.pem" \
        "$work/${n}_certificate.pem" >/dev/null
done
for n in $NAMES; do
    chmod 600 "$work/${n}_key.pem"
    chmod 644 "$work/${n}_certificate.pem"
    mv -f "$work/${n}_certificate.pem" "$work/${n}_key.pem" "$out/"
done
echo "make-certs.sh: wrote test CA, server, server2, client, stranger, special and untrusted certificates to $out"
