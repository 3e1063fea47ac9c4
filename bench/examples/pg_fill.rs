//! Fills a PostgreSQL database with the stores section's fixture: `pg_fill URL USERS`.
fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let url = args.next().ok_or_else(|| anyhow::anyhow!("URL"))?;
    let users: usize = args.next().ok_or_else(|| anyhow::anyhow!("USERS"))?.parse()?;
    tokio::runtime::Runtime::new()?.block_on(smartag_bench::service::fill_postgres(&url, users))
}
