// A Kerberos (SASL/GSSAPI) producer and consumer from a keytab: no kinit, no
// system Kerberos libraries. Run against the test environment with:
//   KRB5_CONFIG=test-env/krb5.conf npx tsx examples/kerberos.ts   (or compile with tsc)
import { Producer, Consumer, KafkaError, type Message } from 'krafka'

const common = {
  'bootstrap.servers': process.env.KAFKA_BOOTSTRAP ?? 'localhost:39093',
  'security.protocol': 'SASL_PLAINTEXT',
  'sasl.mechanisms': 'GSSAPI',
  'sasl.kerberos.service.name': 'kafka',
  'sasl.kerberos.principal': 'krafka-client@KRAFKA.TEST',
  'sasl.kerberos.keytab': process.env.KRAFKA_KEYTAB ?? 'test-env/keytabs/client.keytab',
}

async function main(): Promise<void> {
  const producer = new Producer(common)
  const report = await producer.send({ topic: 'orders', key: 'o-1', value: JSON.stringify({ total: 42 }), headers: { source: 'web' } })
  console.log(`stored at ${report.topic}[${report.partition}] @ ${report.offset}`)
  await producer.close()

  const consumer = new Consumer({ ...common, 'group.id': 'billing', 'auto.offset.reset': 'earliest' })
  consumer.subscribe(['orders'])
  for await (const msg of consumer) {
    handle(msg)
    break
  }
}

function handle(msg: Message): void {
  console.log(msg.key?.toString(), msg.value?.toString(), msg.headers)
}

main().catch((e: unknown) => {
  if (e instanceof KafkaError) console.error(e.code, e.message)
  else console.error(e)
  process.exitCode = 1
})
