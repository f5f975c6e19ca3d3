#!/bin/sh
# Run the real mail2alert under valgrind, one log per process, for
# `make valgrind-check`.  With -q valgrind writes only what it finds, so
# an empty log is a clean run.
dir=${M2A_VALGRIND_LOGS:?set M2A_VALGRIND_LOGS}
mkdir -p "$dir"
exec valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
	--show-leak-kinds=definite --log-file="$dir/mail2alert.%p.log" \
	"${M2A_REAL_BINARY:?set M2A_REAL_BINARY}" "$@"
