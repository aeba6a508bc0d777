#!/usr/bin/env bash
# Times `hubpoll run --once` over generated Twitter pages served from
# 127.0.0.1 against the minimum work the same job needs, measured in the same
# run, and writes bench/results/latest.json. BENCHMARKS.md explains each
# figure.
#
# Environment (defaults in brackets):
#   BENCH_TWEETS         statuses in the large page [50000]
#   BENCH_HISTORY_SMALL  stored keys of the small history store [10000]
#   BENCH_HISTORY_LARGE  stored keys of the large history store [10000000]
#   BENCH_REPEATS        timings per large-page figure; the best counts [3]
#   BENCH_HISTORY_REPEATS  timings per history store; the best counts [7]
#   BENCH_BUILD_DIR      Release build folder [build-bench]
#   BENCH_WORK_DIR       pages, stores and logs [BENCH_BUILD_DIR/data]
#   BENCH_KEEP_DATA=1    keep the stores (about 1 GB with 10 million keys)
set -euo pipefail
export LC_ALL=C

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tweets=${BENCH_TWEETS:-50000}
history_small=${BENCH_HISTORY_SMALL:-10000}
history_large=${BENCH_HISTORY_LARGE:-10000000}
repeats=${BENCH_REPEATS:-3}
history_repeats=${BENCH_HISTORY_REPEATS:-7}
build_dir=${BENCH_BUILD_DIR:-$repo/build-bench}
work_dir=${BENCH_WORK_DIR:-$build_dir/data}
results_dir=$repo/bench/results
history_page=200
# Ids of the filled history keys: 19 digits like the pages' Snowflake ids of
# today, but below them, so the polled keys sort after the stored ones as
# new Twitter ids do.
history_first_id=1000000000000000000
backfill_since=2000-01-01T00:00:00Z

fail() {
  echo "bench/run.sh: $*" >&2
  exit 1
}

for value in "$tweets" "$history_small" "$history_large" "$repeats" \
  "$history_repeats"; do
  [[ $value =~ ^[1-9][0-9]*$ ]] ||
    fail "BENCH_* counts must be positive integers, got \"$value\""
done

# Peak resident memory comes from GNU time's "Maximum resident set size".
if [[ ! -x /usr/bin/time ]]; then
  if [[ $(id -u) -eq 0 ]]; then
    apt-get install -y time >/dev/null ||
      fail "installing the Debian package time failed"
  else
    fail "/usr/bin/time is missing; install the Debian package time"
  fi
fi

build() {
  echo "building in $build_dir (Release)"
  local generator=()
  if [[ ! -f $build_dir/CMakeCache.txt ]] && command -v ninja >/dev/null; then
    generator=(-G Ninja)
  fi
  cmake -S "$repo" -B "$build_dir" "${generator[@]}" \
    -DCMAKE_BUILD_TYPE=Release -DHUBPOLL_BUILD_TESTS=OFF \
    -DHUBPOLL_BUILD_BENCH=ON >"$work_dir/cmake.log" ||
    fail "configuring failed; see $work_dir/cmake.log"
  cmake --build "$build_dir" --target hubpoll hubpoll_bench_dates \
    hubpoll_bench_generate_tweets hubpoll_bench_page_server \
    hubpoll_bench_limit hubpoll_bench_fill_keys >>"$work_dir/cmake.log" ||
    fail "building failed; see $work_dir/cmake.log"
}

utc_hours_ago() {
  date -u -d "-$1 hours" +%Y-%m-%dT%H:%M:%SZ
}

# Pages are dated in the last hours, so hubpoll's default key retention of
# 7 days prunes none of their keys between timed runs.
generate_pages() {
  echo "generating pages of $tweets and $history_page statuses"
  local generate=$build_dir/bench/hubpoll_bench_generate_tweets
  rm -rf "$work_dir/pages"
  mkdir -p "$work_dir/pages"
  "$generate" --count "$tweets" --newest "$(utc_hours_ago 1)" \
    --output "$work_dir/pages/large.json" >/dev/null
  "$generate" --count 0 --newest "$(utc_hours_ago 1)" \
    --output "$work_dir/pages/empty.json" >/dev/null
  local run
  for ((run = 1; run <= history_repeats; run++)); do
    "$generate" --count "$history_page" \
      --newest "$(utc_hours_ago $((run + 1)))" \
      --output "$work_dir/pages/history-$run.json" >/dev/null
  done
  page_bytes=$(stat -c %s "$work_dir/pages/large.json")
}

server_pid=
stop_server() {
  if [[ -n $server_pid ]]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
}
trap stop_server EXIT

start_server() {
  # Emptied first: the server writes its URL only once listening, and a URL
  # left by an earlier run must not be read in the meantime.
  : >"$work_dir/server.out"
  "$build_dir/bench/hubpoll_bench_page_server" "$work_dir/pages" \
    >"$work_dir/server.out" 2>"$work_dir/server.err" &
  server_pid=$!
  local attempt
  for ((attempt = 0; attempt < 100; attempt++)); do
    server_url=$(head -n 1 "$work_dir/server.out")
    [[ -n $server_url ]] && return
    kill -0 "$server_pid" 2>/dev/null ||
      fail "the page server exited; see $work_dir/server.err"
    sleep 0.1
  done
  fail "the page server printed no URL within 10 s"
}

write_poller_config() {
  local format="EEE MMM dd HH:mm:ss Z yyyy"
  cat >"$work_dir/pollers.json" <<EOF
{
  "statuses": {
    "url": "/statuses",
    "idField": "id_str",
    "datesConfiguration": {
      "updatedDateField": "created_at",
      "updatedDateFormat": "$format",
      "updatedDateTimezone": "GMT",
      "createdDateField": "created_at",
      "createdDateFormat": "$format",
      "createdDateTimezone": "GMT"
    }
  }
}
EOF
}

# An instance with notifications off: hubpoll then commits events but
# writes no notifications and delivers nothing, which isolates the poll
# from delivery for the diagnostic "backfill without delivery" figure.
write_quiet_instance() {
  cat >"$work_dir/quiet-instance.json" <<EOF
{"name": "hubpoll", "configuration": {"event.notification.enabled": "false"}}
EOF
}

# Runs a command under GNU time with stdout to $1 and stderr to $2. Sets
# `elapsed` (wall seconds, timed by this shell) and `peak_kb`.
timed() {
  local out=$1 err=$2
  shift 2
  local start=$EPOCHREALTIME
  /usr/bin/time -v -o "$work_dir/time.txt" "$@" >"$out" 2>"$err" ||
    fail "$* failed; see $err"
  local end=$EPOCHREALTIME
  elapsed=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.6f", b - a }')
  peak_kb=$(awk -F': ' '/Maximum resident set size/ { print $2 }' \
    "$work_dir/time.txt")
}

min() { awk -v a="$1" -v b="$2" 'BEGIN { print (a == "" || b < a) ? b : a }'; }
max() { awk -v a="$1" -v b="$2" 'BEGIN { print (a == "" || b > a) ? b : a }'; }

# Runs hubpoll once with the benchmark configuration; extra arguments follow.
hubpoll_run() {
  local log=$1 page=$2 store=$3
  shift 3
  timed /dev/null "$log" "$build_dir/hubpoll" run --once \
    --base-url "$server_url/$page" --config "$work_dir/pollers.json" \
    --store "$store" "$@"
}

expect_log() {
  grep -q "$2" "$1" || fail "expected \"$2\" in $1"
}

# Backfill and steady state, hubpoll and the limit taking turns so that load
# from other processes on the machine falls on both alike.
measure_large_page() {
  local store=$work_dir/backfill.db limit_db=$work_dir/limit.db
  local quiet_store=$work_dir/backfill-quiet.db
  local page_url=$server_url/large/statuses run
  backfill_s= backfill_limit_s= backfill_peak_kb= limit_insert_peak_kb=
  backfill_quiet_s=
  steady_s= steady_limit_s= steady_peak_kb=
  for ((run = 1; run <= repeats; run++)); do
    echo "backfill run $run of $repeats"
    rm -f "$store" "$store"-* "$store".lock "$limit_db" "$limit_db"-*
    hubpoll_run "$work_dir/backfill.log" large "$store" \
      --since "$backfill_since"
    expect_log "$work_dir/backfill.log" \
      "fetched $tweets, new events $tweets, rejected 0"
    backfill_s=$(min "$backfill_s" "$elapsed")
    backfill_peak_kb=$(max "$backfill_peak_kb" "$peak_kb")

    timed "$work_dir/limit-insert.json" "$work_dir/limit.err" \
      "$build_dir/bench/hubpoll_bench_limit" insert "$page_url" "$limit_db"
    expect_log "$work_dir/limit-insert.json" "\"records\": $tweets,"
    backfill_limit_s=$(min "$backfill_limit_s" "$elapsed")
    limit_insert_peak_kb=$(max "$limit_insert_peak_kb" "$peak_kb")

    rm -f "$quiet_store" "$quiet_store"-* "$quiet_store".lock
    hubpoll_run "$work_dir/backfill-quiet.log" large "$quiet_store" \
      --since "$backfill_since" --instance "$work_dir/quiet-instance.json"
    expect_log "$work_dir/backfill-quiet.log" \
      "fetched $tweets, new events $tweets, rejected 0"
    backfill_quiet_s=$(min "$backfill_quiet_s" "$elapsed")
  done
  rm -f "$quiet_store" "$quiet_store"-* "$quiet_store".lock

  # The last backfill's store contains every record, so these polls only find
  # known keys.
  for ((run = 1; run <= repeats; run++)); do
    echo "steady-state run $run of $repeats"
    hubpoll_run "$work_dir/steady.log" large "$store"
    expect_log "$work_dir/steady.log" \
      "fetched $tweets, new events 0, rejected 0"
    steady_s=$(min "$steady_s" "$elapsed")
    steady_peak_kb=$(max "$steady_peak_kb" "$peak_kb")

    timed "$work_dir/limit-lookup.json" "$work_dir/limit.err" \
      "$build_dir/bench/hubpoll_bench_limit" lookup "$page_url" "$limit_db"
    expect_log "$work_dir/limit-lookup.json" "\"found\": $tweets,"
    steady_limit_s=$(min "$steady_limit_s" "$elapsed")
  done

  "$build_dir/bench/hubpoll_bench_limit" scan "$page_url" \
    >"$work_dir/limit-scan.json"
  recursive_scan_ms=$(json_number recursive_scan_ms "$work_dir/limit-scan.json")
  iterative_scan_ms=$(json_number iterative_scan_ms "$work_dir/limit-scan.json")
}

# Makes a store with hubpoll's own schema and stream, then adds $2 keys.
# The keys are dated across the day before the oldest history page, so the
# polled records are newer than every stored key, as in a real stream.
make_history_store() {
  local store=$1 keys=$2
  local newest_ms=$((($(date +%s) - (history_repeats + 2) * 3600) * 1000))
  rm -f "$store" "$store"-* "$store".lock
  hubpoll_run "$work_dir/history-setup.log" empty "$store"
  expect_log "$work_dir/history-setup.log" "fetched 0, new events 0"
  "$build_dir/bench/hubpoll_bench_fill_keys" "$store" hubpoll statuses \
    "$keys" "$history_first_id" "$newest_ms" >/dev/null
}

measure_history() {
  local small=$work_dir/history-small.db large=$work_dir/history-large.db
  echo "filling a store with $history_small keys"
  make_history_store "$small" "$history_small"
  echo "filling a store with $history_large keys"
  local start=$EPOCHREALTIME
  make_history_store "$large" "$history_large"
  fill_large_s=$(awk -v a="$start" -v b="$EPOCHREALTIME" \
    'BEGIN { printf "%.1f", b - a }')
  large_store_mb=$(du -m "$large" | cut -f 1)

  # Each run polls a page of new statuses, the same page for both stores.
  history_small_s= history_large_s=
  local run
  for ((run = 1; run <= history_repeats; run++)); do
    echo "history run $run of $history_repeats"
    for size in small large; do
      local store=$work_dir/history-$size.db
      hubpoll_run "$work_dir/history.log" "history-$run" "$store" \
        --since "$backfill_since"
      expect_log "$work_dir/history.log" \
        "fetched $history_page, new events $history_page, rejected 0"
      if [[ $size == small ]]; then
        history_small_s=$(min "$history_small_s" "$elapsed")
      else
        history_large_s=$(min "$history_large_s" "$elapsed")
      fi
    done
  done
  if [[ ${BENCH_KEEP_DATA:-0} != 1 ]]; then
    rm -f "$small" "$small"-* "$small".lock "$large" "$large"-* "$large".lock
  fi
}

json_number() {
  sed -n "s/.*\"$1\": *\([0-9.]*\).*/\1/p" "$2" | tail -n 1
}

measure_dates() {
  echo "measuring date parses and URL expansions (about 6 s)"
  "$build_dir/bench/hubpoll_bench_dates" >"$work_dir/dates.out" ||
    fail "hubpoll_bench_dates failed; see $work_dir/dates.out"
  tail -n 1 "$work_dir/dates.out" >"$work_dir/dates.json"
  date_parses_per_s=$(json_number date_parses_per_s "$work_dir/dates.json")
  url_expansions_per_s=$(json_number url_expansions_per_s \
    "$work_dir/dates.json")
  [[ -n $date_parses_per_s && -n $url_expansions_per_s ]] ||
    fail "no JSON figures on the last line of $work_dir/dates.out"
}

calc() { awk "BEGIN { printf \"$1\", $2 }"; }

compute_figures() {
  steady_ratio=$(calc %.3f "$steady_limit_s / $steady_s")
  backfill_ratio=$(calc %.3f "$backfill_limit_s / $backfill_s")
  backfill_quiet_ratio=$(calc %.3f "$backfill_limit_s / $backfill_quiet_s")
  history_ratio=$(calc %.3f "$history_large_s / $history_small_s")
  peak_rss_mb=$(calc %.1f "$backfill_peak_kb / 1024")
  steady_peak_rss_mb=$(calc %.1f "$steady_peak_kb / 1024")
  limit_insert_peak_rss_mb=$(calc %.1f "$limit_insert_peak_kb / 1024")
  page_mb=$(calc %.1f "$page_bytes / 1048576")
}

verdict() {
  awk -v v="$1" -v t="$3" -v op="$2" \
    'BEGIN { ok = op == ">=" ? v >= t : v <= t; print ok ? "met" : "MISSED" }'
}

# Seconds to three decimals, for the table.
seconds() { calc %.3f "$1"; }

print_table() {
  local row="%-28s %17s %22s %7s  %s\n"
  echo
  echo "Page: $tweets statuses, $page_mb MB. Times in s, best of $repeats" \
    "($history_repeats for history)."
  printf "$row" figure hubpoll "compared with" value target
  printf "$row" "steady state, all known" "$(seconds "$steady_s")" \
    "limit $(seconds "$steady_limit_s")" "$steady_ratio" \
    ">= 0.5 $(verdict "$steady_ratio" ">=" 0.5)"
  printf "$row" "backfill, all new" "$(seconds "$backfill_s")" \
    "limit $(seconds "$backfill_limit_s")" "$backfill_ratio" \
    ">= 0.5 $(verdict "$backfill_ratio" ">=" 0.5)"
  printf "$row" "  without delivery" "$(seconds "$backfill_quiet_s")" \
    "limit $(seconds "$backfill_limit_s")" "$backfill_quiet_ratio" \
    "(diagnostic)"
  printf "$row" "backfill peak RSS (MB)" "$peak_rss_mb" \
    "limit $limit_insert_peak_rss_mb" "$peak_rss_mb" \
    "<= 64 $(verdict "$peak_rss_mb" "<=" 64)"
  printf "$row" "$history_page-record poll" "$(seconds "$history_large_s")" \
    "$history_small keys $(seconds "$history_small_s")" \
    "$history_ratio" "<= 1.3 $(verdict "$history_ratio" "<=" 1.3)"
  printf "%-28s %17s\n" "  (with $history_large keys)"
  printf "%-28s %17s\n" "date parses per s" "$date_parses_per_s"
  printf "%-28s %17s\n" "URL expansions per s" "$url_expansions_per_s"
}

write_results() {
  mkdir -p "$results_dir"
  local commit cpu dirty=false
  commit=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)
  if [[ -n $(git -C "$repo" status --porcelain 2>/dev/null) ]]; then
    dirty=true
  fi
  cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
  cat >"$results_dir/latest.json" <<EOF
{
  "steady_ratio": $steady_ratio,
  "backfill_ratio": $backfill_ratio,
  "peak_rss_mb": $peak_rss_mb,
  "history_ratio": $history_ratio,
  "date_parses_per_s": $date_parses_per_s,
  "url_expansions_per_s": $url_expansions_per_s,
  "tweets": $tweets,
  "page_bytes": $page_bytes,
  "repeats": $repeats,
  "history_repeats": $history_repeats,
  "steady_s": $steady_s,
  "steady_limit_s": $steady_limit_s,
  "steady_peak_rss_mb": $steady_peak_rss_mb,
  "backfill_s": $backfill_s,
  "backfill_limit_s": $backfill_limit_s,
  "backfill_without_delivery_s": $backfill_quiet_s,
  "backfill_without_delivery_ratio": $backfill_quiet_ratio,
  "limit_insert_peak_rss_mb": $limit_insert_peak_rss_mb,
  "recursive_scan_ms": $recursive_scan_ms,
  "iterative_scan_ms": $iterative_scan_ms,
  "history_page_records": $history_page,
  "history_small_keys": $history_small,
  "history_large_keys": $history_large,
  "history_small_s": $history_small_s,
  "history_large_s": $history_large_s,
  "history_large_store_mb": $large_store_mb,
  "history_large_fill_s": $fill_large_s,
  "commit": "$commit",
  "uncommitted_changes": $dirty,
  "nproc": $(nproc),
  "cpu": "$cpu",
  "finished": "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
}
EOF
  echo "wrote $results_dir/latest.json"
}

main() {
  mkdir -p "$work_dir"
  build
  generate_pages
  start_server
  write_poller_config
  write_quiet_instance
  measure_large_page
  measure_history
  measure_dates
  compute_figures
  print_table
  write_results
}

main "$@"
