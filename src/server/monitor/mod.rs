//! Monitoring for the dashboard: each instance closes a rollup of what it measured
//! every ten seconds (and one every five minutes), keeps its own in memory and
//! publishes them to Redis for the others (ten-second ones kept an hour, five-minute
//! ones a day). The dashboard merges the fleet's rollups for the chosen period.

pub mod dashboard;
pub mod log;
pub mod rollup;
pub mod rules;
pub mod vitals;
pub mod window;

use std::{
    collections::VecDeque,
    sync::{Arc, Mutex},
    time::Duration,
};

use fred::prelude::{KeysInterface, SortedSetsInterface};
use tokio::sync::watch;

pub use window::window;

use self::{rollup::Rollup, window::Totals};
use super::redis::Redis;

/// Fine rollups: ten seconds each, kept an hour.
pub const FINE_SECONDS: i64 = 10;
const FINE_KEPT_SECONDS: i64 = 3_600;
/// Coarse rollups: five minutes each, kept a day.
pub const COARSE_SECONDS: i64 = 300;
const COARSE_KEPT_SECONDS: i64 = 24 * 3_600;
/// How long a publication may take before it is given up (the next one carries on).
const PUBLISH_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tier {
    Fine,
    Coarse,
}

struct History {
    /// The totals when the open interval began, and when that was (Unix seconds).
    previous: Totals,
    opened_at: i64,
    fine: VecDeque<Rollup>,
    coarse: VecDeque<Rollup>,
    /// The five minutes being filled.
    coarse_open: Option<Rollup>,
}

pub struct Monitor {
    instance: String,
    redis: Option<Redis>,
    prefix: String,
    history: Mutex<History>,
}

pub fn now_seconds() -> i64 {
    window::now_ms().div_euclid(1_000)
}

impl Monitor {
    pub fn new(instance: String, redis: Option<Redis>, prefix: &str) -> Arc<Monitor> {
        Arc::new(Monitor {
            instance,
            redis,
            prefix: prefix.to_owned(),
            history: Mutex::new(History {
                previous: window().totals(),
                opened_at: now_seconds(),
                fine: VecDeque::new(),
                coarse: VecDeque::new(),
                coarse_open: None,
            }),
        })
    }

    /// This instance's name on the dashboard: the host and the port it serves on.
    pub fn instance(&self) -> &str {
        &self.instance
    }

    fn history(&self) -> std::sync::MutexGuard<'_, History> {
        self.history
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn key(&self, tier: Tier) -> String {
        match tier {
            Tier::Fine => format!("{}:monitor:fine", self.prefix),
            Tier::Coarse => format!("{}:monitor:coarse", self.prefix),
        }
    }

    /// Closes the open interval at `now`: its fine rollup, and the coarse one if five
    /// minutes ended with it.
    pub fn close_interval(&self, now: i64) -> (Rollup, Option<Rollup>) {
        let totals = window().totals();
        let mut history = self.history();
        let mut fine = window().difference(&history.previous, &totals);
        fine.instance = self.instance.clone();
        fine.start = history.opened_at;
        fine.seconds = (now - history.opened_at).max(1);
        history.previous = totals;
        history.opened_at = now;

        history.fine.push_back(fine.clone());
        while history
            .fine
            .front()
            .is_some_and(|oldest| oldest.start < now - FINE_KEPT_SECONDS)
        {
            history.fine.pop_front();
        }

        let period = fine.start.div_euclid(COARSE_SECONDS) * COARSE_SECONDS;
        let mut finished = None;
        match &mut history.coarse_open {
            Some(open) if open.start == period => open.absorb_later(&fine),
            _ => {
                let mut open = fine.clone();
                open.start = period;
                finished = history.coarse_open.replace(open);
            }
        }
        if let Some(open) = &mut history.coarse_open {
            open.start = period;
            open.seconds = COARSE_SECONDS;
        }
        if let Some(done) = &finished {
            history.coarse.push_back(done.clone());
            while history
                .coarse
                .front()
                .is_some_and(|oldest| oldest.start < now - COARSE_KEPT_SECONDS)
            {
                history.coarse.pop_front();
            }
        }
        (fine, finished)
    }

    /// What this instance measured since the last fine rollup.
    pub fn open_interval(&self) -> Rollup {
        let totals = window().totals();
        let history = self.history();
        let mut open = window().difference(&history.previous, &totals);
        open.instance = self.instance.clone();
        open.start = history.opened_at;
        open.seconds = (now_seconds() - history.opened_at).max(1);
        open
    }

    /// Closes an interval every ten seconds, on the clock's ten-second marks, and
    /// publishes it, until `stop`.
    pub async fn run(self: Arc<Self>, mut stop: watch::Receiver<bool>) {
        loop {
            let now_ms = window::now_ms();
            let step_ms = FINE_SECONDS * 1_000;
            let wait = step_ms - now_ms.rem_euclid(step_ms);
            tokio::select! {
                () = tokio::time::sleep(Duration::from_millis(wait as u64)) => {}
                _ = stop.changed() => return,
            }
            let now = now_seconds();
            let (fine, coarse) = self.close_interval(now);
            self.publish(&fine, coarse.as_ref(), now).await;
        }
    }

    async fn publish(&self, fine: &Rollup, coarse: Option<&Rollup>, now: i64) {
        let Some(redis) = &self.redis else { return };
        let publication = async {
            let pipeline = redis.next().pipeline();
            for (tier, rollup, kept) in [(Tier::Fine, Some(fine), FINE_KEPT_SECONDS)]
                .into_iter()
                .chain([(Tier::Coarse, coarse, COARSE_KEPT_SECONDS)])
            {
                let Some(rollup) = rollup else { continue };
                let key = self.key(tier);
                let member = serde_json::to_string(rollup).unwrap_or_default();
                let _: () = pipeline
                    .zadd(
                        &key,
                        None,
                        None,
                        false,
                        false,
                        (rollup.start as f64, member),
                    )
                    .await?;
                let _: () = pipeline
                    .zremrangebyscore(&key, f64::NEG_INFINITY, (now - kept) as f64)
                    .await?;
                let _: () = pipeline.expire(&key, kept * 2, None).await?;
            }
            let _: Vec<fred::types::Value> = pipeline.all().await?;
            Ok::<_, fred::error::Error>(())
        };
        match tokio::time::timeout(
            PUBLISH_TIMEOUT,
            super::redis::timed("monitor_publish", publication),
        )
        .await
        {
            Ok(Ok(())) => {}
            Ok(Err(error)) => tracing::debug!(%error, "could not publish the monitoring rollup"),
            Err(_) => tracing::debug!("publishing the monitoring rollup timed out"),
        }
    }

    /// The rollups of `tier` that began at `from` or later: this instance's from
    /// memory, the others' from Redis (none if Redis cannot answer: the dashboard then
    /// shows this instance alone).
    pub async fn rollups(&self, tier: Tier, from: i64) -> Vec<Rollup> {
        let mut rollups: Vec<Rollup> = {
            let history = self.history();
            let own = match tier {
                Tier::Fine => &history.fine,
                Tier::Coarse => &history.coarse,
            };
            own.iter()
                .filter(|rollup| rollup.start >= from)
                .cloned()
                .collect()
        };
        if let Some(redis) = self
            .redis
            .as_ref()
            .filter(|redis| super::redis::is_up(redis))
        {
            let read = redis.zrangebyscore::<Vec<String>, _, _, _>(
                self.key(tier),
                from as f64,
                f64::INFINITY,
                false,
                None,
            );
            match tokio::time::timeout(PUBLISH_TIMEOUT, super::redis::timed("monitor_read", read))
                .await
            {
                Ok(Ok(members)) => rollups.extend(
                    members
                        .iter()
                        .filter_map(|member| serde_json::from_str::<Rollup>(member).ok())
                        .filter(|rollup| rollup.instance != self.instance),
                ),
                Ok(Err(error)) => tracing::debug!(%error, "could not read the fleet's rollups"),
                Err(_) => tracing::debug!("reading the fleet's rollups timed out"),
            }
        }
        rollups
    }
}

/// The name an instance goes by: its host name and the port it serves on.
pub fn instance_name(port: u16) -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "localhost".to_owned());
    format!("{host}:{port}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_add_up_to_five_minute_rollups() {
        let monitor = Monitor::new("test:1".into(), None, "t");
        let base = 1_800_000_000 - 1_800_000_000 % COARSE_SECONDS;
        monitor.history().opened_at = base;
        let mut finished = Vec::new();
        for step in 1..=31 {
            metrics::counter!("monitor_test_ticks_total").increment(1);
            let (fine, coarse) = monitor.close_interval(base + step * FINE_SECONDS);
            assert_eq!(fine.start, base + (step - 1) * FINE_SECONDS);
            assert_eq!(fine.seconds, FINE_SECONDS);
            finished.extend(coarse);
        }
        // 30 intervals filled the first five minutes; the 31st opened the next.
        assert_eq!(finished.len(), 1);
        let coarse = &finished[0];
        assert_eq!((coarse.start, coarse.seconds), (base, COARSE_SECONDS));
        assert_eq!(monitor.history().fine.len(), 31);
        assert_eq!(monitor.history().coarse.len(), 1);
    }
}
