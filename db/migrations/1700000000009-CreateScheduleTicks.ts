import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What each tick of a job's schedule did: started a run under the job's lock, or was skipped (with the reason and,
 * when a run held the lock, that run), or waits for the lock (`buffer_one`). One row per tick workflow run, written by
 * the tick itself, so a tick is never dropped without a trace.
 */
export class CreateScheduleTicks1700000000009 implements MigrationInterface {
  name = 'CreateScheduleTicks1700000000009';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE schedule_ticks (
        tick_run_id      text        PRIMARY KEY,
        tick_workflow_id text        NOT NULL,
        job_name         text        NOT NULL,
        schedule_id      text        NOT NULL,
        -- the tick's nominal time (TemporalScheduledStartTime); a trigger's is when it was asked for
        scheduled_at     timestamptz NOT NULL,
        partition_key    text,
        outcome          text        NOT NULL CHECK (outcome IN ('started', 'skipped', 'buffered')),
        reason           text,
        -- the lock the tick went for, and the run it started or that held it
        workflow_id      text,
        run_id           text,
        recorded_at      timestamptz NOT NULL DEFAULT now(),
        updated_at       timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX schedule_ticks_job ON schedule_ticks (job_name, scheduled_at DESC)`);
    // buffer_one: at most one tick waits for each lock
    await q.query(`CREATE UNIQUE INDEX schedule_ticks_one_waiting ON schedule_ticks (workflow_id) WHERE outcome = 'buffered'`);
    await q.query(`CREATE INDEX schedule_ticks_recorded ON schedule_ticks (recorded_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE schedule_ticks`);
  }
}
