#!/bin/sh
# Builds deepmnar with AddressSanitizer and UndefinedBehaviorSanitizer (gcc's
# -fsanitize=address,undefined) into a private library and runs the test
# suite under it. Any report makes the run fail (halt_on_error), so a clean
# run ends with the test summary line. Run from the package root:
#   sh tools/sanitize.sh            # log in /tmp/deepmnar-sanitize.log
# Leak detection is off: R itself does not free everything at exit.
set -eu
lib=$(mktemp -d)
src=$(mktemp -d)
makevars=$(mktemp)
# Build from a copy: R CMD INSTALL compiles in the source tree, and the
# sanitized objects must not mix with a normal build's.
git ls-files -z | xargs -0 -I{} cp --parents {} "$src"
log=${SANITIZE_LOG:-/tmp/deepmnar-sanitize.log}
cat > "$makevars" <<'MK'
CXXFLAGS = -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize=vptr
CXX14FLAGS = -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize=vptr
LDFLAGS = -fsanitize=address,undefined
MK
asan=$(gcc -print-file-name=libasan.so)
ubsan=$(gcc -print-file-name=libubsan.so)
echo "building with sanitizers into $lib" | tee "$log"
R_MAKEVARS_USER="$makevars" R CMD INSTALL --preclean --no-test-load -l "$lib" "$src" >> "$log" 2>&1
echo "running the tests under ASan + UBSan" | tee -a "$log"
status=0
LD_PRELOAD="$asan $ubsan" \
ASAN_OPTIONS=detect_leaks=0:halt_on_error=1:abort_on_error=0 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
R_LIBS="$lib" Rscript tools/run-tests.R >> "$log" 2>&1 || status=$?
grep -E "ERROR: AddressSanitizer|runtime error:|passed, .* failed" "$log" | tail -n 20
rm -rf "$lib" "$src" "$makevars"
exit $status
