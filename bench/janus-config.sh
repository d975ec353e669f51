#!/usr/bin/env bash
# Writes a throwaway Janus (Debian package `janus` 1.1.2) configuration for
# benchmarking the VideoRoom plugin on loopback, then prints the command that
# runs it (sfuload runs it inside bench/sfuload.sh's namespace).
#
#   bench/janus-config.sh CONFDIR          # e.g. /tmp/janus-bench
#   ICE_LITE=1 EVENT_LOOPS=2 bench/janus-config.sh CONFDIR
#
# What you get: WebSocket API on ws://127.0.0.1:8188 (subprotocol
# "janus-protocol"), only janus.plugin.videoroom loaded, no STUN/TURN/mDNS/IPv6,
# no admin_key (rooms may be created by API), no api_secret/token auth.
#
# Why the extra interface: Janus skips every IFF_LOOPBACK interface when
# gathering ICE candidates (src/ice.c), so with only `lo` up it answers
# 490 "Error setting ICE locally". Giving a non-loopback interface (a port-less
# bridge, or a dummy) the address 127.0.0.1/32 makes Janus offer
# "127.0.0.1 <port> typ host", reachable from clients bound to 127.0.0.1.
# Nothing is downloaded; needs root (or sudo) for unshare/ip.
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 CONFDIR" >&2; exit 2; }
command -v janus >/dev/null || { echo "janus missing: apt-get install -y janus" >&2; exit 1; }
mkdir -p "$1"
CONF=$(cd "$1" && pwd)
LIB=$(dirname "$(ls -d /usr/lib/*/janus/plugins | head -n1)")	# e.g. /usr/lib/x86_64-linux-gnu/janus

cat >"$CONF/janus.jcfg" <<EOF
general: {
	configs_folder = "$CONF"
	plugins_folder = "$LIB/plugins"
	transports_folder = "$LIB/transports"
	events_folder = "$LIB/events"
	loggers_folder = "$LIB/loggers"
	debug_level = 3			# warnings only
	session_timeout = 60		# clients must send {"janus":"keepalive"} < 60 s apart
	server_name = "janus-bench"
	$( [ -n "${EVENT_LOOPS:-}" ] && echo "event_loops = $EVENT_LOOPS	# fixed thread pool instead of one thread per handle" )
}
certificates: {
	# no cert_pem/cert_key: a DTLS certificate is generated at every start
}
media: {
	ipv6 = false
	rtp_port_range = "20000-40000"
}
nat: {
	ignore_mdns = true
	ice_enforce_list = "janus0"	# the interface created in the namespace
	$( [ -n "${ICE_LITE:-}" ] && echo "ice_lite = true" )
	# no stun_server / turn_server: host candidates only; half-trickle
	# (Janus puts its candidates in its SDP, clients may trickle theirs)
}
plugins: {
	disable = "libjanus_audiobridge.so,libjanus_duktape.so,libjanus_echotest.so,libjanus_lua.so,libjanus_nosip.so,libjanus_recordplay.so,libjanus_sip.so,libjanus_streaming.so,libjanus_textroom.so,libjanus_videocall.so,libjanus_voicemail.so"
}
transports: {
	disable = "libjanus_http.so,libjanus_mqtt.so,libjanus_nanomsg.so,libjanus_pfunix.so,libjanus_rabbitmq.so"
}
loggers: {
	disable = "libjanus_jsonlog.so"
}
events: {
	broadcast = false
}
EOF

cat >"$CONF/janus.transport.websockets.jcfg" <<EOF
general: {
	json = "plain"
	ws = true
	ws_port = 8188
	ws_ip = "127.0.0.1"
	wss = false
}
admin: {
	admin_ws = false
	admin_wss = false
}
EOF

# No static rooms: create them by API ({"request":"create","publishers":250,...}).
# No admin_key, so "create" needs no key.
cat >"$CONF/janus.plugin.videoroom.jcfg" <<EOF
general: {
	events = false
}
EOF

# The namespace is the caller's (bench/sfuload.sh makes it, with janus0).
echo "janus -F $CONF -o"
