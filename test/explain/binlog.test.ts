import t from 'tap'
import { explainText } from '../../lib/explain/explain.js'
import { TOOLS } from '../../lib/cli.js'

// The lines mysql-read --binlog writes for a server it cannot read (test/mysql/binlog.test.ts
// produces them against the real server), as explain-errors reads them back.
const lines: Array<[string, string, string, string]> = [
  ['BINLOG_PRIVILEGES', 'the user lacks REPLICATION SLAVE and REPLICATION CLIENT, which reading the binary log needs: GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO the user', 'mysql-binlog-setup', 'GRANT REPLICATION SLAVE, REPLICATION CLIENT'],
  ['BINLOG_FORMAT', "the server's binlog_format is MIXED, not ROW: statements in the binary log do not say which rows changed; set binlog_format=ROW (SET GLOBAL binlog_format = 'ROW', and in the server's configuration)", 'mysql-binlog-setup', 'SELECT @@log_bin, @@binlog_format, @@binlog_row_image'],
  ['BINLOG_PURGED', 'checkpoint c.ckpt resumes the binary log at mariadb-bin.000001:4, but the server has purged it (its oldest binary log is mariadb-bin.000042): the changes since are lost to this read; rerun with --resnapshot to copy the tables again and stream from now', 'mysql-binlog-lost', 'SHOW BINARY LOGS']
]

for (const [code, message, rule, says] of lines) {
  t.test(`${code}: ${rule}`, async (t) => {
    const r = await explainText(`mysql-read: error [${code}] ${message} (host=127.0.0.1, port=3306, database=shop, table=orders)\n`, TOOLS)
    t.equal(r.problems[0].rule, rule)
    t.ok(r.problems[0].what.includes(message.slice(0, 40)), 'says what the reader said')
    t.ok(r.problems[0].commands.some((c) => c.includes(says)), `suggests ${says}`)
  })
}
