//! The breaker's pure logic: the failure-rate window, the probe wait that grows with the
//! outage, pauses and probes.

use super::*;

fn config() -> BreakerConfig {
    BreakerConfig {
        failure_rate: 0.5,
        min_requests: 4,
        window: Duration::from_secs(10),
        first_probe_after: Duration::from_millis(250),
        max_probe_every: Duration::from_secs(25),
        paused_probe_every: Duration::from_secs(60),
    }
}

fn breaker() -> (Breaker, Instant) {
    (Breaker::new(config()), Instant::now())
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[test]
fn opens_on_the_failure_rate_once_the_window_holds_enough_requests() {
    let (mut b, t0) = breaker();
    for _ in 0..3 {
        b.on_failure(FailureKind::Transient, t0);
        assert_eq!(b.permit(t0), Permit::Send, "fewer than min_requests never open it");
    }
    b.on_failure(FailureKind::Transient, t0);
    assert_eq!(b.state(), BreakerState::Open { until: t0 + ms(250) }, "a fresh outage is probed soon");
    assert_eq!(b.permit(t0 + ms(100)), Permit::WaitUntil(t0 + ms(250)));
    assert_eq!(b.permit(t0 + ms(250)), Permit::Probe);
    assert_eq!(b.state().name(), "half_open");
}

#[test]
fn random_failures_below_the_rate_never_open_it() {
    let (mut b, t0) = breaker();
    // One failure in five, including runs of several in a row.
    let pattern =
        [true, true, true, false, false, false, false, false, false, false, false, false, false, false, false];
    for round in 0..200u64 {
        for (i, failed) in pattern.iter().enumerate() {
            let now = t0 + ms(round * 100 + i as u64);
            if *failed {
                b.on_failure(FailureKind::Transient, now);
            } else {
                b.on_success(now);
            }
            assert_eq!(b.permit(now), Permit::Send, "round {round}, request {i}");
        }
    }
}

#[test]
fn the_window_forgets_old_outcomes() {
    let (mut b, t0) = breaker();
    for i in 0..10 {
        b.on_success(t0 + ms(i));
    }
    for i in 0..5 {
        b.on_failure(FailureKind::Transient, t0 + ms(100 + i));
    }
    assert_eq!(b.state(), BreakerState::Closed, "5 of 15 failed");
    // Eleven seconds later the successes are out of the window: the failures now dominate.
    let later = t0 + Duration::from_secs(11);
    for i in 0..4 {
        b.on_failure(FailureKind::Transient, later + ms(i));
    }
    assert_eq!(b.state().name(), "open");
}

#[test]
fn the_probe_wait_grows_with_the_outage_and_is_capped() {
    let (b, _) = breaker();
    assert_eq!(b.probe_wait(Duration::ZERO), ms(250));
    assert_eq!(b.probe_wait(Duration::from_secs(32)), Duration::from_secs(1));
    assert!(b.probe_wait(Duration::from_secs(59)) < Duration::from_secs(2), "under a minute: back within 2 s");
    assert_eq!(b.probe_wait(Duration::from_secs(320)), Duration::from_secs(10));
    assert_eq!(b.probe_wait(Duration::from_secs(86_400)), Duration::from_secs(25), "never more than the cap");
}

#[test]
fn failed_probes_reopen_for_longer_as_the_outage_goes_on() {
    let (mut b, t0) = breaker();
    for _ in 0..4 {
        b.on_failure(FailureKind::Transient, t0);
    }
    let mut now = t0;
    let mut waits = Vec::new();
    while now < t0 + Duration::from_secs(600) {
        let BreakerState::Open { until } = b.state() else { panic!("open while the outage lasts") };
        waits.push(until - now);
        now = until;
        assert_eq!(b.permit(now), Permit::Probe);
        b.on_failure(FailureKind::Transient, now);
    }
    assert!(waits.windows(2).all(|w| w[0] <= w[1]), "never shorter: {waits:?}");
    assert_eq!(waits[0], ms(250));
    assert!(waits.iter().all(|w| *w <= Duration::from_secs(25)));
    assert!(*waits.last().unwrap() >= Duration::from_secs(15), "a long outage is probed rarely: {waits:?}");
    // Back: the probe succeeds and everything flows again.
    assert_eq!(b.permit(now + Duration::from_secs(30)), Permit::Probe);
    b.on_success(now + Duration::from_secs(30));
    assert_eq!(b.state(), BreakerState::Closed);
    assert_eq!(b.consecutive_failures(), 0);
    assert_eq!(b.permit(now + Duration::from_secs(30)), Permit::Send);
}

#[test]
fn a_late_success_of_an_earlier_request_does_not_close_an_open_breaker() {
    let (mut b, t0) = breaker();
    for _ in 0..4 {
        b.on_failure(FailureKind::Transient, t0);
    }
    b.on_success(t0 + ms(10));
    assert_eq!(b.state().name(), "open");
    assert_eq!(b.permit(t0 + ms(250)), Permit::Probe);
    b.on_success(t0 + ms(260));
    assert_eq!(b.state(), BreakerState::Closed);
}

#[test]
fn auth_failures_pause_until_resumed_or_probe_time() {
    let (mut b, t0) = breaker();
    b.on_failure(FailureKind::Auth, t0);
    assert_eq!(b.state().name(), "paused");
    assert!(b.holding());
    assert_eq!(b.permit(t0 + Duration::from_secs(1)), Permit::WaitUntil(t0 + Duration::from_secs(60)));
    b.resume();
    assert_eq!(b.permit(t0 + Duration::from_secs(1)), Permit::Probe);
}

#[test]
fn one_probe_at_a_time() {
    let (mut b, t0) = breaker();
    b.on_failure(FailureKind::Auth, t0);
    b.resume();
    assert_eq!(b.permit(t0), Permit::Probe);
    assert_eq!(b.permit(t0), Permit::WaitUntil(t0 + PROBE_WAIT));
    b.on_success(t0);
    assert_eq!(b.permit(t0), Permit::Send);
    assert!(!b.holding());
}

#[test]
fn permanent_failures_do_not_trip() {
    let (mut b, t0) = breaker();
    for _ in 0..10 {
        b.on_failure(FailureKind::Permanent, t0);
    }
    assert_eq!(b.permit(t0), Permit::Send);
}
