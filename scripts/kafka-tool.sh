#!/usr/bin/env bash
# Run a Kafka command-line tool (or any main class) on the test broker's
# classpath, with the test realm's krb5.conf and quiet logging.
#
#   scripts/kafka-tool.sh topics --bootstrap-server 127.0.0.1:39092 --list
#   scripts/kafka-tool.sh topics --bootstrap-server localhost:39093 \
#       --command-config test-env/kafka/client-gssapi.properties --list
#   scripts/kafka-tool.sh org.apache.kafka.tools.AclCommand ...
#
# Short names: topics, acls, configs, groups, producer, consumer,
# api-versions, metadata-quorum, get-offsets, producer-perf, consumer-perf,
# storage. Anything else is taken as a fully qualified main class.
# Extra JVM flags: KRAFKA_TOOL_JVM_OPTS (e.g. -Dsun.security.krb5.debug=true);
# tool log level: KRAFKA_TOOL_JVM_OPTS=-Dkrafka.tools.level=DEBUG.
# Needs scripts/env-up.sh to have resolved the classpath once.
set -euo pipefail
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LOG_PREFIX=kafka-tool
# shellcheck source=env-common.sh disable=SC2034
. "$SCRIPT_DIR/env-common.sh"

[ $# -ge 1 ] || { sed -n '2,16s/^# \{0,1\}//p' "$0" >&2; exit 2; }
tool=$1; shift
case $tool in
  topics) main=org.apache.kafka.tools.TopicCommand ;;
  acls) main=org.apache.kafka.tools.AclCommand ;;
  configs) main=kafka.admin.ConfigCommand ;;
  groups) main=org.apache.kafka.tools.consumer.group.ConsumerGroupCommand ;;
  producer) main=org.apache.kafka.tools.ConsoleProducer ;;
  consumer) main=org.apache.kafka.tools.consumer.ConsoleConsumer ;;
  api-versions) main=org.apache.kafka.tools.BrokerApiVersionsCommand ;;
  metadata-quorum) main=org.apache.kafka.tools.MetadataQuorumCommand ;;
  get-offsets) main=org.apache.kafka.tools.GetOffsetShell ;;
  producer-perf) main=org.apache.kafka.tools.ProducerPerformance ;;
  consumer-perf) main=org.apache.kafka.tools.ConsumerPerformance ;;
  storage) main=kafka.tools.StorageTool ;;
  *) main=$tool ;;
esac
kafka_tool "$main" "$@"
