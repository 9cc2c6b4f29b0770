import type { Connection, RowDataPacket } from 'mysql2/promise'
import type { ErrorContext } from '../core/errors.js'
import { EspipeError, errorMessage } from '../core/errors.js'
import { sqlCode } from './errors.js'
import type { TableName } from './identifiers.js'
import { quoteServerName } from './identifiers.js'

/** What one lane committed: per reader stream, the number of the last record it committed. */
export type LaneCommitted = Map<number, number>

/**
 * What mysql-write keeps in the database of its table to make a checkpointed pipe exact even
 * for writes that are not idempotent (CONTRACT.md §6): a table of its own, `espipe_checkpoints`,
 * one row per (checkpoint, lane) holding, for each reader stream, the number of the last
 * record that lane committed. Each batch writes its lane's row in the same transaction as its
 * rows, so the database says exactly what was committed, whatever the checkpoint file (a copy,
 * saved after the commit) says. A lane's batches commit in order and rows are routed to lanes
 * by id, so a record is committed if and only if its number is at most what its lane says: a
 * rerun passes over those records. The rows of a checkpoint are deleted when its pipe completes.
 */
export class MysqlPositions {
  static readonly TABLE = 'espipe_checkpoints'
  private readonly table: string
  /** Lanes of the run that wrote the rows (routing must be the same to read them). */
  lanes: number | undefined
  /** What each lane committed, by lane. */
  readonly committed = new Map<number, LaneCommitted>()

  constructor (readonly checkpoint: string, target: TableName, private readonly context: ErrorContext) {
    this.table = target.database === undefined ? quoteServerName(MysqlPositions.TABLE) : `${quoteServerName(target.database)}.${quoteServerName(MysqlPositions.TABLE)}`
  }

  /**
   * Makes the table if it is missing and reads this checkpoint's rows. The table written to
   * must be transactional: otherwise its rows and the positions could not commit together.
   */
  async load (conn: Connection, target: TableName): Promise<void> {
    const [[row]] = await conn.query<RowDataPacket[]>('SELECT ENGINE AS engine FROM information_schema.TABLES WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ?', [target.database ?? null, target.table])
    const engine = String(row?.engine ?? '')
    if (!/^(InnoDB|Aria)$/i.test(engine)) {
      throw new EspipeError('ER_CHECKPOINT_ENGINE', `--checkpoint needs a transactional table, and ${target.table} is ${engine === '' ? 'not a base table' : engine}: its rows and the positions would not commit together (ALTER TABLE … ENGINE=InnoDB)`, { context: this.context })
    }
    try {
      await conn.query(`CREATE TABLE IF NOT EXISTS ${this.table} (checkpoint VARCHAR(64) NOT NULL, lane INT NOT NULL, lanes INT NOT NULL, committed TEXT NOT NULL, updated TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6), PRIMARY KEY (checkpoint, lane)) ENGINE=InnoDB`)
    } catch (err) {
      throw new EspipeError(sqlCode(err), `--checkpoint keeps what it commits in a table ${MysqlPositions.TABLE} beside ${target.table}, which could not be made: ${errorMessage(err)}`, { context: this.context, cause: err })
    }
    const [rows] = await conn.query<RowDataPacket[]>(`SELECT lane, lanes, committed FROM ${this.table} WHERE checkpoint = ?`, [this.checkpoint])
    for (const r of rows) {
      this.lanes = Number(r.lanes)
      this.committed.set(Number(r.lane), new Map(Object.entries(JSON.parse(String(r.committed)) as Record<string, number>).map(([s, n]) => [Number(s), n])))
    }
  }

  /** Whether record `n` of `stream`, routed to `lane`, was committed by an earlier run. */
  isCommitted (lane: number, stream: number, n: number): boolean {
    const last = this.committed.get(lane)?.get(stream)
    return last !== undefined && n <= last
  }

  /** Inside a batch's transaction: its lane's row, as it stands once the batch commits. */
  async record (conn: Connection, lane: number, lanes: number, committed: LaneCommitted): Promise<void> {
    const text = JSON.stringify(Object.fromEntries(committed))
    await conn.query(`INSERT INTO ${this.table} (checkpoint, lane, lanes, committed) VALUES (?, ?, ?, ?) ON DUPLICATE KEY UPDATE lanes = VALUES(lanes), committed = VALUES(committed)`, [this.checkpoint, lane, lanes, text])
  }

  /** The pipe is complete: its rows are of no more use. */
  async forget (conn: Connection): Promise<void> {
    await conn.query(`DELETE FROM ${this.table} WHERE checkpoint = ?`, [this.checkpoint])
  }
}
