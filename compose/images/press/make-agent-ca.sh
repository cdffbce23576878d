#!/bin/sh
# One-shot (service agent-ca): a private CA and a certificate for the internal agent entrypoint,
# made once and kept in the agent_ca volume; bundle.pem (public roots + this CA) is rebuilt on
# every start so image updates of the public roots reach it. Usage: make-agent-ca DIR NAME...
set -eu
directory="$1"
shift
cd "$directory"
umask 077
if [ ! -f ca.key ]; then
	openssl req -x509 -newkey rsa:4096 -sha256 -days 3650 -nodes \
		-keyout ca.key -out ca.pem -subj "/CN=press_selfhost agents CA"
fi
if [ ! -f server.key ]; then
	sans=""
	for name in "$@"; do sans="${sans:+$sans,}DNS:${name}"; done
	openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj "/CN=$1"
	printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\n' "$sans" > server.ext
	openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
		-days 825 -sha256 -extfile server.ext -out server.pem
	rm -f server.csr server.ext
fi
cat "${PUBLIC_ROOTS:-/etc/ssl/certs/ca-certificates.crt}" ca.pem > bundle.pem
# Press (uid 1000) reads the certificates; the keys stay readable by root (Traefik) only.
chmod 644 ca.pem server.pem bundle.pem
