# ClickHouse as a plain process for tests (Debian's clickhouse-server 18.16; no systemd).
# Source this file, then
#   ch_start DIR HTTP_PORT TCP_PORT  own config.xml/users.xml in DIR, data in DIR/data; returns
#                                    once SELECT 1 answers (fails after 60 s, with the log tail)
#   ch_stop [DIR]                    SIGTERM, waits for the exit (SIGKILL after 30 s). Note a
#                                    stopping 18.16 keeps serving open keep-alive connections
#                                    until it exits (seconds): use ch_kill for a sharp outage
#   ch_kill [DIR]                    SIGKILL, a crash: connections drop at once
#   ch_query SQL                     runs SQL over HTTP, prints the answer; non-zero on an error
#   ch_client ARGS...                clickhouse-client against the same server (native port)
#   ch_cluster_xml NAME HOST:TCP...  <remote_servers> for a cluster NAME of one shard per HOST:TCP,
#                                    to put in CH_EXTRA_CONFIG
# ch_start sets CH_DIR, CH_HOST, CH_HTTP_PORT, CH_TCP_PORT for the others.
# CH_EXTRA_CONFIG: XML put as it is inside the server's <yandex> (remote_servers, macros, ...).
# Listens on 127.0.0.1 only, or on the address in CH_LISTEN (e.g. a veth address inside a netns:
# run ch_start under `ip netns exec`). Data in DIR survives ch_stop/ch_start, so a restart in the
# middle of a test is a real restart of the same server.
#
# Root: 18.16 runs as root as long as it owns its data directory, which it does here. Later
# versions refuse when the effective user differs from the data's owner; set CH_USER=clickhouse
# (or it is done automatically after a start as root failed) to chown DIR and run as that user.

ch_server_cmd() {
	local b
	for b in /usr/bin/clickhouse-server /usr/sbin/clickhouse-server; do
		[ -x "$b" ] && { echo "$b"; return 0; }
	done
	[ -x /usr/bin/clickhouse ] && { echo "/usr/bin/clickhouse server"; return 0; }
	echo "ch_start: no clickhouse-server binary found" >&2
	return 1
}

ch_write_config() {
	local dir=$1 http=$2 tcp=$3 listen=${CH_LISTEN:-127.0.0.1}
	mkdir -p "$dir/data" "$dir/tmp" "$dir/log" "$dir/user_files" "$dir/format_schemas"
	cat >"$dir/config.xml" <<XML
<?xml version="1.0"?>
<yandex>
  <logger>
    <level>warning</level>
    <log>$dir/log/server.log</log>
    <errorlog>$dir/log/error.log</errorlog>
    <console>0</console>
  </logger>
  <listen_host>$listen</listen_host>
  <http_port>$http</http_port>
  <tcp_port>$tcp</tcp_port>
  <path>$dir/data/</path>
  <tmp_path>$dir/tmp/</tmp_path>
  <user_files_path>$dir/user_files/</user_files_path>
  <format_schema_path>$dir/format_schemas/</format_schema_path>
  <users_config>$dir/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <mark_cache_size>268435456</mark_cache_size>
  <uncompressed_cache_size>268435456</uncompressed_cache_size>
  <max_concurrent_queries>50</max_concurrent_queries>
  <mlock_executable>false</mlock_executable>
${CH_EXTRA_CONFIG:-}
</yandex>
XML
	cat >"$dir/users.xml" <<XML
<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>4000000000</max_memory_usage></default></profiles>
  <users>
    <default>
      <password></password>
      <!-- the listen address is the fence; clients of a netns address are not loopback -->
      <networks><ip>::/0</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
    </default>
  </users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors>
    <result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time>
  </interval></default></quotas>
</yandex>
XML
}

ch_cluster_xml() {
	local name=$1 hp
	shift
	printf '  <remote_servers>\n    <%s>\n' "$name"
	for hp in "$@"; do
		printf '      <shard><replica><host>%s</host><port>%s</port></replica></shard>\n' "${hp%:*}" "${hp##*:}"
	done
	printf '    </%s>\n  </remote_servers>\n' "$name"
}

ch_query() {
	local port=${CH_HTTP_PORT:-} sql
	if [ $# -ge 2 ]; then port=$1; shift; fi # old form: ch_query PORT SQL
	sql=$1
	curl -sS --fail-with-body --max-time 60 "http://${CH_HOST:-127.0.0.1}:$port/" --data-binary "$sql"
}

ch_client() {
	clickhouse-client --host "${CH_HOST:-127.0.0.1}" --port "$CH_TCP_PORT" "$@"
}

# Starts the server from DIR's config as USER (empty: as we are); 0 once it answers.
ch_launch() {
	local dir=$1 user=$2 cmd i pid
	cmd=$(ch_server_cmd) || return 1
	if [ -n "$user" ]; then
		chown -R "$user:" "$dir" || return 1
		setpriv --reuid="$user" --regid="$user" --init-groups \
			$cmd --config-file="$dir/config.xml" >>"$dir/log/stdout.log" 2>&1 </dev/null &
	else
		$cmd --config-file="$dir/config.xml" >>"$dir/log/stdout.log" 2>&1 </dev/null &
	fi
	pid=$!
	echo $pid >"$dir/pid"
	for i in $(seq 1 120); do
		if [ "$(ch_query 'SELECT 1' 2>/dev/null)" = 1 ]; then
			return 0
		fi
		if ! kill -0 "$pid" 2>/dev/null; then
			rm -f "$dir/pid"
			echo "ch_start: clickhouse-server exited${user:+ (as $user)}; last log lines:" >&2
			tail -n 20 "$dir/log/error.log" "$dir/log/stdout.log" >&2 2>/dev/null
			return 2
		fi
		sleep 0.5
	done
	echo "ch_start: no answer on ${CH_HOST:-127.0.0.1}:$CH_HTTP_PORT after 60 s" >&2
	ch_stop "$dir"
	return 1
}

ch_start() {
	local dir=$1 http=$2 tcp=$3 rc
	CH_DIR=$dir CH_HTTP_PORT=$http CH_TCP_PORT=$tcp CH_HOST=${CH_LISTEN:-127.0.0.1}
	ch_write_config "$dir" "$http" "$tcp"
	echo "$http" >"$dir/http_port"
	if [ "$(id -u)" = 0 ] && [ -n "${CH_USER:-}" ]; then
		ch_launch "$dir" "$CH_USER"
		return
	fi
	ch_launch "$dir" ""
	rc=$?
	# a version that refuses root: the same again as the clickhouse user, owning DIR
	if [ $rc = 2 ] && [ "$(id -u)" = 0 ] && id clickhouse >/dev/null 2>&1; then
		echo "ch_start: retrying as user clickhouse" >&2
		CH_USER=clickhouse
		ch_launch "$dir" clickhouse
		return
	fi
	return $rc
}

ch_stop() {
	local dir=${1:-${CH_DIR:-}} pid i
	[ -n "$dir" ] && [ -f "$dir/pid" ] || return 0
	pid=$(cat "$dir/pid")
	if kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null
		for i in $(seq 1 300); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$pid" 2>/dev/null; then
			echo "ch_stop: clickhouse-server $pid ignored SIGTERM for 30 s; killing it" >&2
			kill -KILL "$pid" 2>/dev/null
			sleep 0.5
		fi
	fi
	rm -f "$dir/pid"
}

ch_kill() {
	local dir=${1:-${CH_DIR:-}} pid
	[ -n "$dir" ] && [ -f "$dir/pid" ] || return 0
	pid=$(cat "$dir/pid")
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null # reaps it quietly when it is our child (no "Killed" line)
	while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
	rm -f "$dir/pid"
}
