#!/usr/bin/env bash
# One export as N jobs under GNU parallel: job I copies slice I of N, with a checkpoint of its own.
# A job that fails (a killed writer, a lost server) leaves its checkpoint; running this same
# script again reruns only the failed jobs (--resume-failed reads the job log), and each of
# them continues from what its writer committed. Exit status: the number of jobs that failed.
#
#   ES_URL=http://es:9200 MYSQL_URL=mysql://app@db/shop SLICES=4 STATE=/var/lib/espipe ./slices-parallel.sh
#
# Inputs (environment): ES_URL, MYSQL_URL, INDEX (default logs), TABLE (default: INDEX),
# SLICES (default 4), STATE (the directory of the job log and the checkpoints, default .),
# ES_READ_OPTS and MYSQL_WRITE_OPTS (more options for each stage, e.g. "--query '{…}' --size 500").
set -euo pipefail
: "${ES_URL:?set ES_URL}" "${MYSQL_URL:?set MYSQL_URL}"
INDEX=${INDEX:-logs} TABLE=${TABLE:-${INDEX:-logs}} SLICES=${SLICES:-4} STATE=${STATE:-.}
ES_READ_OPTS=${ES_READ_OPTS:-} MYSQL_WRITE_OPTS=${MYSQL_WRITE_OPTS:-}
export ES_URL MYSQL_URL INDEX TABLE SLICES STATE ES_READ_OPTS MYSQL_WRITE_OPTS
mkdir -p "$STATE"

# The table first, once, so that N writers do not race to create it.
mysql-write --url "$MYSQL_URL" --table "$TABLE" --create -q < /dev/null

# Each job's command is the same on every run (the job log matches jobs by their command),
# and its pipe fails when any stage fails.
parallel --joblog "$STATE/$INDEX.joblog" --resume-failed -j "$SLICES" \
  'set -o pipefail; ckpt="$STATE/$INDEX.{}.ckpt";
   es-read --url "$ES_URL" --index "$INDEX" --slice {}/"$SLICES" --checkpoint "$ckpt" -q $ES_READ_OPTS |
   mysql-write --url "$MYSQL_URL" --table "$TABLE" --checkpoint "$ckpt" -q $MYSQL_WRITE_OPTS' \
  ::: $(seq 0 $((SLICES - 1)))
