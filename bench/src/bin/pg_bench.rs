//! `pg_bench`: bulk writes of transfers into Postgres, three ways, as the sequencer's
//! journal could write them: `COPY ... FROM STDIN (FORMAT binary)`, the journal's own
//! `INSERT ... SELECT * FROM UNNEST(...)`, and a multi-row `INSERT ... VALUES`.
//!
//! A fresh database is created (and dropped afterwards, even on failure) on the Postgres
//! at `DATABASE_URL` and migrated to the project's schema (the journal's `transfers` table).
//! Each run writes the same rows each way, in chunks of 4,096 rows, one transaction per
//! chunk, into an emptied table (`TRUNCATE` before each way; the order of the ways
//! rotates from run to run). Figures are medians over runs (`markdown::PG_BULK` explains
//! them); they are merged into `--out` (default `bench/results.json`) and `RESULTS.md`
//! beside it is regenerated. Progress goes to stderr.

use std::{fmt::Write as _, path::PathBuf, time::Instant};

use anyhow::{ensure, Context, Result};
use bench::{
    markdown::{self, format_value},
    recorder::Recorder,
    scratch_db,
    workload::SplitMix64,
};
use clap::Parser;
use sqlx::{Connection, Executor, PgConnection};

/// Bulk writes of transfers into Postgres: COPY vs UNNEST vs multi-row INSERT.
#[derive(Debug, Parser)]
struct Args {
    /// 50,000 rows, 5 runs (the default).
    #[arg(long, conflicts_with = "full")]
    quick: bool,
    /// 200,000 rows, 5 runs.
    #[arg(long)]
    full: bool,
    /// The results file to merge into; `RESULTS.md` is regenerated beside it.
    #[arg(long, default_value = "bench/results.json")]
    out: PathBuf,
    /// Postgres on which the benchmark creates (and drops) a database of its own.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "postgres://postgres:postgres@127.0.0.1:5432/postgres"
    )]
    database_url: String,
    /// Runs (overrides the mode's).
    #[arg(long)]
    runs: Option<usize>,
    /// Rows per run (overrides the mode's).
    #[arg(long)]
    rows: Option<usize>,
}

/// Rows per chunk (one transaction each), the sequencer's largest batch.
const CHUNK: usize = 4_096;
/// Columns written per row (all but `received_at`, which defaults to `now()`).
const COLUMNS: usize = 9;
/// Postgres's limit on bind parameters per statement.
const MAX_BINDS: usize = 65_535;
const CHAIN_ID: i64 = 31337;

/// The sequencer's statement (`sequencer/src/store.rs`, `Store::insert_transfers`).
const UNNEST_SQL: &str =
    "INSERT INTO transfers (hash, seq, chain_id, from_key, to_key, amount, fee, nonce, signature)
             SELECT * FROM UNNEST($1::bytea[], $2::bigint[], $3::bigint[], $4::bytea[], $5::bytea[],
                                  $6::bigint[], $7::bigint[], $8::bigint[], $9::bytea[])";

const COPY_SQL: &str = "COPY transfers (hash, seq, chain_id, from_key, to_key, amount, fee, \
     nonce, signature) FROM STDIN (FORMAT binary)";

/// Sizes and run count.
#[derive(Clone, Copy, Debug)]
struct Plan {
    runs: usize,
    rows: usize,
}

const QUICK: Plan = Plan {
    runs: 5,
    rows: 50_000,
};
const FULL: Plan = Plan {
    runs: 5,
    rows: 200_000,
};

/// One transfer row, as the journal writes it.
#[derive(Clone, Debug)]
struct Row {
    hash: [u8; 32],
    seq: i64,
    from: [u8; 40],
    to: [u8; 40],
    amount: i64,
    fee: i64,
    nonce: i64,
    signature: [u8; 72],
}

fn random_bytes<const N: usize>(rng: &mut SplitMix64) -> [u8; N] {
    let mut out = [0u8; N];
    for chunk in out.chunks_mut(8) {
        let word = rng.next_u64().to_le_bytes();
        chunk.copy_from_slice(&word[..chunk.len()]);
    }
    out
}

/// `count` rows with random hashes, keys (from 10,000 accounts) and signatures, and
/// consecutive `seq`s.
fn rows(count: usize) -> Vec<Row> {
    let mut rng = SplitMix64::new(0x9e_5eed);
    let keys: Vec<[u8; 40]> = (0..10_000).map(|_| random_bytes(&mut rng)).collect();
    (0..count)
        .map(|i| Row {
            hash: random_bytes(&mut rng),
            seq: i as i64 + 1,
            from: keys[rng.below(keys.len() as u64) as usize],
            to: keys[rng.below(keys.len() as u64) as usize],
            amount: rng.below(1_000_000) as i64 + 1,
            fee: rng.below(100) as i64,
            nonce: rng.below(1_000) as i64,
            signature: random_bytes(&mut rng),
        })
        .collect()
}

/// The rows of `chunk` in Postgres's binary COPY format (header, tuples, trailer).
fn copy_binary(chunk: &[Row]) -> Vec<u8> {
    let mut out = Vec::with_capacity(19 + chunk.len() * (2 + 9 * 4 + 32 + 5 * 8 + 80 + 72) + 2);
    out.extend_from_slice(b"PGCOPY\n\xff\r\n\0");
    out.extend_from_slice(&0i32.to_be_bytes()); // flags
    out.extend_from_slice(&0i32.to_be_bytes()); // header extension length
    let bytes = |out: &mut Vec<u8>, b: &[u8]| {
        out.extend_from_slice(&(b.len() as i32).to_be_bytes());
        out.extend_from_slice(b);
    };
    let bigint = |out: &mut Vec<u8>, v: i64| {
        out.extend_from_slice(&8i32.to_be_bytes());
        out.extend_from_slice(&v.to_be_bytes());
    };
    for row in chunk {
        out.extend_from_slice(&(COLUMNS as i16).to_be_bytes());
        bytes(&mut out, &row.hash);
        bigint(&mut out, row.seq);
        bigint(&mut out, CHAIN_ID);
        bytes(&mut out, &row.from);
        bytes(&mut out, &row.to);
        bigint(&mut out, row.amount);
        bigint(&mut out, row.fee);
        bigint(&mut out, row.nonce);
        bytes(&mut out, &row.signature);
    }
    out.extend_from_slice(&(-1i16).to_be_bytes());
    out
}

/// `INSERT ... VALUES ($1, ..., $9), ($10, ..., $18), ...` for `rows` rows.
fn multi_row_insert(rows: usize) -> String {
    let mut sql = String::from(
        "INSERT INTO transfers (hash, seq, chain_id, from_key, to_key, amount, fee, nonce, \
         signature) VALUES ",
    );
    for row in 0..rows {
        sql.push_str(if row == 0 { "(" } else { ", (" });
        for column in 0..COLUMNS {
            let sep = if column == 0 { "" } else { ", " };
            let _ = write!(sql, "{sep}${}", row * COLUMNS + column + 1);
        }
        sql.push(')');
    }
    sql
}

/// The three ways of writing a chunk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Way {
    Copy,
    Unnest,
    Insert,
}

impl Way {
    const ALL: [Way; 3] = [Way::Copy, Way::Unnest, Way::Insert];

    fn name(self) -> &'static str {
        match self {
            Way::Copy => "copy",
            Way::Unnest => "unnest",
            Way::Insert => "insert",
        }
    }
}

/// Writes `chunk` one way, in a transaction of its own.
async fn write_chunk(conn: &mut PgConnection, way: Way, chunk: &[Row]) -> Result<()> {
    let mut tx = conn.begin().await?;
    match way {
        Way::Copy => {
            let data = copy_binary(chunk);
            let mut copy = tx.copy_in_raw(COPY_SQL).await?;
            copy.send(data).await?;
            let written = copy.finish().await?;
            ensure!(written == chunk.len() as u64, "COPY wrote {written} rows");
        }
        Way::Unnest => {
            // Column arrays, as `TransferColumns` builds them in the sequencer.
            let hash: Vec<Vec<u8>> = chunk.iter().map(|r| r.hash.to_vec()).collect();
            let seq: Vec<i64> = chunk.iter().map(|r| r.seq).collect();
            let chain_id: Vec<i64> = vec![CHAIN_ID; chunk.len()];
            let from: Vec<Vec<u8>> = chunk.iter().map(|r| r.from.to_vec()).collect();
            let to: Vec<Vec<u8>> = chunk.iter().map(|r| r.to.to_vec()).collect();
            let amount: Vec<i64> = chunk.iter().map(|r| r.amount).collect();
            let fee: Vec<i64> = chunk.iter().map(|r| r.fee).collect();
            let nonce: Vec<i64> = chunk.iter().map(|r| r.nonce).collect();
            let signature: Vec<Vec<u8>> = chunk.iter().map(|r| r.signature.to_vec()).collect();
            let done = sqlx::query(UNNEST_SQL)
                .bind(&hash)
                .bind(&seq)
                .bind(&chain_id)
                .bind(&from)
                .bind(&to)
                .bind(&amount)
                .bind(&fee)
                .bind(&nonce)
                .bind(&signature)
                .execute(&mut *tx)
                .await?;
            ensure!(done.rows_affected() == chunk.len() as u64, "UNNEST short");
        }
        Way::Insert => {
            let mut query = sqlx::query(sqlx::AssertSqlSafe(multi_row_insert(chunk.len())));
            for r in chunk {
                query = query
                    .bind(&r.hash[..])
                    .bind(r.seq)
                    .bind(CHAIN_ID)
                    .bind(&r.from[..])
                    .bind(&r.to[..])
                    .bind(r.amount)
                    .bind(r.fee)
                    .bind(r.nonce)
                    .bind(&r.signature[..]);
            }
            let done = query.execute(&mut *tx).await?;
            ensure!(done.rows_affected() == chunk.len() as u64, "INSERT short");
        }
    }
    tx.commit().await?;
    Ok(())
}

/// Empties the table, then writes every row one way; rows per second.
async fn write_all(conn: &mut PgConnection, way: Way, rows: &[Row]) -> Result<f64> {
    conn.execute("TRUNCATE transfers CASCADE").await?;
    let started = Instant::now();
    for chunk in rows.chunks(CHUNK) {
        write_chunk(conn, way, chunk)
            .await
            .with_context(|| format!("writing a chunk by {}", way.name()))?;
    }
    let seconds = started.elapsed().as_secs_f64();
    let (count,): (i64,) = sqlx::query_as("SELECT count(*) FROM transfers")
        .fetch_one(&mut *conn)
        .await?;
    ensure!(
        count == rows.len() as i64,
        "{} wrote {count} rows",
        way.name()
    );
    Ok(rows.len() as f64 / seconds)
}

/// Per-run rows/s of each way (index as in [`Way::ALL`]).
async fn measure(url: &str, rows: &[Row], runs: usize) -> Result<Vec<[f64; 3]>> {
    let mut conn = PgConnection::connect(url).await?;
    // The project's real schema: the journal's table with its indexes, as the sequencer has it.
    rollup_core::schema::MIGRATOR.run(&mut conn).await?;
    // Warm-up: every way once (statements prepared, table and indexes in cache).
    let warm = &rows[..rows.len().min(2 * CHUNK)];
    for way in Way::ALL {
        write_all(&mut conn, way, warm).await?;
    }
    let mut per_run = Vec::new();
    for run in 0..runs {
        let mut rates = [0.0; 3];
        for k in 0..3 {
            let i = (run + k) % 3;
            let way = Way::ALL[i];
            rates[i] = write_all(&mut conn, way, rows).await?;
            eprintln!(
                "[run {}/{runs}] {:>6}: {} rows/s",
                run + 1,
                way.name(),
                format_value(rates[i])
            );
        }
        per_run.push(rates);
    }
    conn.close().await?;
    Ok(per_run)
}

fn main() -> Result<()> {
    let args = Args::parse();
    let started = Instant::now();
    let mode = if args.full { FULL } else { QUICK };
    let plan = Plan {
        runs: args.runs.unwrap_or(mode.runs),
        rows: args.rows.unwrap_or(mode.rows),
    };
    ensure!(plan.runs > 0 && plan.rows > 0, "nothing to measure");
    ensure!(CHUNK * COLUMNS <= MAX_BINDS, "chunk over the bind limit");
    eprintln!(
        "[setup] {} rows in chunks of {CHUNK}, {} runs",
        plan.rows, plan.runs
    );
    let rows = rows(plan.rows);

    let runtime = tokio::runtime::Runtime::new()?;
    let name = format!("bench_pg_{}", std::process::id());
    let admin_url = &args.database_url;
    let per_run = runtime.block_on(async {
        let url = scratch_db::create(admin_url, &name).await.context(
            "creating the benchmark database (DATABASE_URL; `make postgres` starts one)",
        )?;
        eprintln!("[setup] database {name}");
        let measured = measure(&url, &rows, plan.runs).await;
        let dropped = scratch_db::drop(admin_url, &name)
            .await
            .context("dropping the benchmark database");
        let measured = measured?;
        dropped?;
        anyhow::Ok(measured)
    })?;

    let mut rec = Recorder::default();
    let column = |i: usize| per_run.iter().map(|r| r[i]).collect::<Vec<f64>>();
    rec.record("postgres.copy_rows_per_s", &column(0), "rows/s");
    rec.record("postgres.unnest_rows_per_s", &column(1), "rows/s");
    rec.record("postgres.insert_rows_per_s", &column(2), "rows/s");
    let ratio = |i: usize| per_run.iter().map(|r| r[i] / r[2]).collect::<Vec<f64>>();
    rec.record("postgres.copy_vs_insert", &ratio(0), "ratio");
    rec.record("postgres.unnest_vs_insert", &ratio(1), "ratio");
    rec.record_one("postgres.bulk_rows", plan.rows as f64, "rows");

    markdown::write_results_and_page(&args.out, rec.results, "pg_bench", started)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_binary_frames_every_row() {
        let rows = rows(3);
        let data = copy_binary(&rows);
        assert!(data.starts_with(b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0"));
        assert!(data.ends_with(&[0xff, 0xff]));
        // Header 19, trailer 2; per row: 2 + 9 lengths + 32 + 5 * 8 + 2 * 40 + 72.
        assert_eq!(data.len(), 19 + 2 + 3 * (2 + 36 + 32 + 40 + 80 + 72));
    }

    #[test]
    fn multi_row_insert_numbers_binds_in_order() {
        let sql = multi_row_insert(2);
        assert!(sql.ends_with("VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9), ($10, $11, $12, $13, $14, $15, $16, $17, $18)"));
        assert!(multi_row_insert(CHUNK).contains("$36864)"));
    }
}
