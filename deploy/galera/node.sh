#!/bin/sh
# Entry point of one Galera node of the `ha` compose profile: decides how the node starts, by the
# Galera rules (scripts/galera.sh does the same for the development cluster):
# - its grastate.dat says safe_to_bootstrap: 1 (it was the last node stopped cleanly): it starts a
#   new primary component from its data (`--wsrep-new-cluster`);
# - no data yet and GALERA_FIRST=1: it starts the brand-new cluster;
# - otherwise it joins (IST or SST from a donor); after all nodes crashed together, pc.recovery
#   lets them reform the primary component by themselves once they are all back.
# The SST login (root, whose password comes from the environment) is written into the
# container's own config at start (mode 600), never into the image or the repository.
set -eu
state=/var/lib/mysql/grastate.dat
set -- mariadbd --wsrep-node-name="${GALERA_NODE:?set GALERA_NODE}"
if [ -f "$state" ] && grep -q '^safe_to_bootstrap: *1' "$state"; then
  echo "galera: $GALERA_NODE was stopped last: bootstrapping the cluster from it"
  set -- "$@" --wsrep-new-cluster
elif [ ! -f "$state" ] && [ "${GALERA_FIRST:-0}" = 1 ]; then
  echo "galera: $GALERA_NODE starts a new cluster"
  set -- "$@" --wsrep-new-cluster
fi
umask 077
printf '[mysqld]\nwsrep_sst_auth = root:%s\n' "${MARIADB_ROOT_PASSWORD:?}" >/etc/mysql/conf.d/zz-sst.cnf
chown mysql: /etc/mysql/conf.d/zz-sst.cnf
exec docker-entrypoint.sh "$@"
