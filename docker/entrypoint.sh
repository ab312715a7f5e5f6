#!/bin/sh
# Container entrypoint.
#
#   (no arguments) or `serve ...`  run `aftersale migrate`, then `exec aftersale serve ...`
#   another aftersale subcommand   `exec aftersale SUBCOMMAND ...` (migrate, shop, routes, version)
#   an executable on PATH          run it (e.g. `docker run -it IMAGE sh`)
#   `aftersale ARGS`               the same as `ARGS`
#
# Environment:
#   MIGRATE_ON_START=1   0 skips the migration (when a separate job migrates)
#   MIGRATE_ATTEMPTS=10  tries before giving up while the database is not up yet
set -eu

# `aftersale X` is the same as `X`.
if [ "$#" -gt 0 ] && [ "$1" = aftersale ]; then
	shift
fi
if [ "$#" -eq 0 ]; then
	set -- serve
fi

case "$1" in
serve)
	if [ "${MIGRATE_ON_START:-1}" != 0 ]; then
		attempts=${MIGRATE_ATTEMPTS:-10}
		n=1
		until aftersale migrate; do
			if [ "$n" -ge "$attempts" ]; then
				echo "entrypoint: aftersale migrate failed $n times; giving up" >&2
				exit 1
			fi
			echo "entrypoint: aftersale migrate failed (try $n of $attempts); retrying in 2s" >&2
			n=$((n + 1))
			sleep 2
		done
	fi
	exec aftersale "$@"
	;;
-*)
	exec aftersale "$@"
	;;
esac

if command -v "$1" >/dev/null 2>&1; then
	exec "$@"
fi
exec aftersale "$@"
