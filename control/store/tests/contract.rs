//! Runs the store contract (`contract/suite.rs`) against both backends, plus the
//! promises only one backend makes: the embedded store's file (reopen, crash, lock,
//! corruption, history window) and etcd's outages.
//!
//! etcd tests start their own etcd (`df_store::testing::Etcd`); without the binary they
//! print `SKIPPED: ...` and pass, unless `DF_REQUIRE_ETCD=1`.

#[path = "contract/suite.rs"]
mod suite;

/// One `#[tokio::test]` per suite function, with a fixture made by `$fixture(name)`.
macro_rules! contract {
    ($fixture:path; $($name:ident),* $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            let started = std::time::Instant::now();
            let Some(fixture) = $fixture(stringify!($name)).await else { return };
            crate::suite::$name(fixture.store.clone()).await;
            eprintln!("{} ({}) took {:?}", stringify!($name), module_path!(), started.elapsed());
        }
    )*};
}

macro_rules! all_contract_tests {
    ($fixture:path) => {
        contract!($fixture;
            get_put_delete, cas_absent, cas_mod_revision, list_is_one_revision, revisions_increase,
            watch_replays_history, watch_from_now, watch_after_compaction, lease_expiry_deletes_keys,
            keep_alive_extends, unique_keys_concurrent, bad_arguments,
        );
    };
}

#[path = "contract/embedded.rs"]
mod embedded;

#[path = "contract/etcd.rs"]
mod etcd;
