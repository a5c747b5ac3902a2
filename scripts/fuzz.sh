#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds the fuzz harnesses (tests/fuzz) with clang-16, libFuzzer, ASan and UBSan in build-fuzz/
# (the library and the harnesses only), replays every stored reproducer, then fuzzes each target
# for a bounded time, starting from the seed corpus (scripts/fuzz_seeds.py) and the corpus kept
# from earlier runs (build-fuzz/corpus/<target>/). See docs/fuzzing.md.
#   scripts/fuzz.sh              30 s per target
#   scripts/fuzz.sh 300          300 s per target
#   ACM_FUZZ_TARGETS="csv xes" scripts/fuzz.sh 60    only these targets
# Fails when a reproducer or a fuzzing run finds something (crash, sanitizer report, broken
# oracle, timeout, memory blow-up); the input is kept in build-fuzz/findings/<target>/.
# Figures per target (executions, coverage) go to build-fuzz/fuzz-summary.tsv.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
SECONDS_PER_TARGET="${1:-30}"
DIR=build-fuzz
LAUNCHER=()
if command -v ccache >/dev/null; then
  export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
  LAUNCHER=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
fi
# -O1 -g without NDEBUG: assertions (ours and nlohmann's) stay on while fuzzing.
cmake -S . -B "$DIR" "${LAUNCHER[@]}" -DCMAKE_C_COMPILER=clang-16 -DCMAKE_CXX_COMPILER=clang++-16 \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g" \
  -DACM_FUZZ=ON -DACM_BUILD_TESTS=OFF -DACM_BUILD_EXAMPLES=OFF -DACM_INSTALL=OFF -DACM_BUILD_PYTHON=OFF \
  -DACM_C_SHARED=OFF >/dev/null
cmake --build "$DIR" -j"$(nproc)" --target acm_fuzz

# Seeds from examples/, the tests and the shared data (plus the CLI's learned templates when an
# ordinary build exists).
/usr/bin/python3 scripts/fuzz_seeds.py "$DIR/seeds"

export ASAN_OPTIONS="detect_leaks=1:allocator_may_return_null=1:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:${UBSAN_OPTIONS:-}"
targets=()
for src in tests/fuzz/fuzz_*.cpp; do
  t=$(basename "$src" .cpp)
  t=${t#fuzz_}
  [ -x "$DIR/tests/fuzz/acm_fuzz_$t" ] || continue
  if [ -n "${ACM_FUZZ_TARGETS:-}" ] && [[ " $ACM_FUZZ_TARGETS " != *" $t "* ]]; then continue; fi
  targets+=("$t")
done

failed=()
summary="$DIR/fuzz-summary.tsv"
printf 'target\tseconds\texecutions\texec_per_s\tcov\tft\tcorpus\tresult\n' >"$summary"
for t in "${targets[@]}"; do
  exe="$DIR/tests/fuzz/acm_fuzz_$t"
  mkdir -p "$DIR/corpus/$t" "$DIR/findings/$t" "$DIR/seeds/$t" "$DIR/logs"
  echo "== $t: stored reproducers"
  mapfile -t inputs < <(find "tests/fuzz/regressions/$t" -type f ! -name '.*' 2>/dev/null | sort)
  if [ ${#inputs[@]} -gt 0 ] && ! "$exe" -timeout=60 -rss_limit_mb=4096 "${inputs[@]}" >"$DIR/logs/$t-regressions.log" 2>&1; then
    echo "   a stored reproducer fails: $DIR/logs/$t-regressions.log"
    tail -n 30 "$DIR/logs/$t-regressions.log"
    failed+=("$t (regression)")
  else
    echo "   ${#inputs[@]} inputs pass"
  fi
  echo "== $t: fuzzing ${SECONDS_PER_TARGET}s"
  result=ok
  if ! "$exe" -max_total_time="$SECONDS_PER_TARGET" -timeout=20 -rss_limit_mb=2560 -max_len=65536 \
      -artifact_prefix="$DIR/findings/$t/" -print_final_stats=1 "$DIR/corpus/$t" "$DIR/seeds/$t" \
      >"$DIR/logs/$t.log" 2>&1; then
    result=finding
    echo "   FINDING: $DIR/logs/$t.log, input in $DIR/findings/$t/"
    grep -m1 -E "ERROR: |acm fuzz finding|runtime error" "$DIR/logs/$t.log" || true
    failed+=("$t")
  fi
  execs=$(grep -o 'stat::number_of_executed_units:[[:space:]]*[0-9]*' "$DIR/logs/$t.log" | grep -o '[0-9]*$' || echo 0)
  speed=$(grep -o 'stat::average_exec_per_sec:[[:space:]]*[0-9]*' "$DIR/logs/$t.log" | grep -o '[0-9]*$' || echo 0)
  last=$(grep -E '^#[0-9]+' "$DIR/logs/$t.log" | tail -n 1 || true)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  corpus=$(find "$DIR/corpus/$t" -type f | wc -l)
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "$SECONDS_PER_TARGET" "${execs:-0}" "${speed:-0}" "${cov:-?}" "${ft:-?}" \
    "$corpus" "$result" >>"$summary"
  echo "   executions ${execs:-0}, cov ${cov:-?}, ft ${ft:-?}, corpus $corpus"
done
column -t "$summary" 2>/dev/null || cat "$summary"
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzzing found problems in: ${failed[*]}"
  exit 1
fi
