//! The worker's provable stream: positions handed out when an event is first routed (live
//! follow), recorded with the stream head in one write per routed batch before anything is
//! sent, and read back for every later send (after a crash, on another node, re-sends and
//! replays), so the position, chain and body never change. Also makes the checkpoints.

use auditrelay_core::event::payload_with_id;
use auditrelay_core::stream_proof::{ChainDigest, Checkpoint, ParkedPosition, names};
use auditrelay_core::time::{format_micros, now_micros};
use auditrelay_store::streams::{StreamEntry, StreamHead};
use auditrelay_store::{StoreError, StoredEvent};
use std::collections::HashMap;
use std::time::{Duration, Instant};

use super::stream_state::{CHECKPOINT_RETRY_CAP, CHECKPOINT_RETRY_FIRST, StreamState, Undelivered};
use super::{Sender, Worker};
use crate::outgoing::{Outgoing, Stamp};
use crate::sinks::Sink;

impl Worker {
    /// Reads the stream head at the start of a live round (created at the cursor the first time).
    pub(super) async fn stream_begin(&self, cursor: i64) -> Result<(), StoreError> {
        let genesis = ChainDigest::genesis(&self.spec.stream_id).to_hex();
        let head = self.store.stream_head_or_init(self.spec.id, cursor, &genesis).await?;
        if self.state().head.as_ref() == Some(&head) {
            return Ok(());
        }
        // First round, or another node moved the stream: settle what the cursor has passed.
        let settled = self.store.stream_entry_at_or_before(self.spec.id, cursor).await?;
        let mut state = self.state();
        state.tail.clear();
        if let Some(entry) = settled {
            let stamp = self.stamp(&entry);
            state.tail.assigned(entry.seq, &stamp);
            state.tail.passed(entry.seq);
        }
        state.head = Some(head);
        Ok(())
    }

    /// The events of a live read this destination gets, stamped. Events up to the head keep the
    /// positions (and bodies) recorded when they were first routed; the rest are routed now and
    /// get the next positions, recorded before they are sent.
    pub(super) async fn stamp_batch(&self, events: &[StoredEvent]) -> Result<Vec<Outgoing>, StoreError> {
        // The lock is never held across an await (the cursor writer takes it meanwhile); reads
        // of one worker run one at a time, so the head does not move under this one.
        let Some(head) = self.state().head.clone() else {
            return Err(StoreError::Conflict("the stream head (not read)".into()));
        };
        let split = events.partition_point(|e| e.seq <= head.last_seq);
        let (known, new) = events.split_at(split);
        let mut out = self.as_first_routed(known, false).await?;
        let routed = self.route(new).await?;
        let mut chain =
            ChainDigest::from_hex(&head.chain).unwrap_or_else(|| ChainDigest::genesis(&self.spec.stream_id));
        let mut position = head.position;
        let redacting = self.settings.redaction().is_some();
        let mut entries = Vec::with_capacity(routed.len());
        for mut event in routed {
            let digest = auditrelay_core::stream_proof::body_sha256(event.body.as_bytes());
            chain = chain.next_with_body_digest(&digest);
            position += 1;
            // Keep the body only when it is not what the event renders to (redacted now; the
            // setting may change before a re-send).
            let body = redacting
                .then(|| new.binary_search_by_key(&event.seq, |e| e.seq).ok())
                .flatten()
                .filter(|&i| payload_with_id(&new[i].id, &new[i].payload) != event.body)
                .map(|_| event.body.clone());
            entries.push(StreamEntry {
                position,
                seq: event.seq,
                body_sha256: digest.to_hex(),
                chain: chain.to_hex(),
                body,
            });
            event.stamp = Some(Stamp { stream: self.spec.stream_id.clone(), position: position as u64, chain });
            out.push(event);
        }
        if !entries.is_empty() {
            self.store.append_stream(self.spec.id, &head, &entries).await?;
        }
        let mut state = self.state();
        if let Some(last) = entries.last() {
            state.head = Some(StreamHead {
                position: last.position,
                chain: last.chain.clone(),
                last_seq: last.seq,
                started_seq: head.started_seq,
            });
        }
        for event in &out {
            if let Some(stamp) = &event.stamp {
                state.tail.assigned(event.seq, stamp);
            }
        }
        Ok(out)
    }

    /// `events` as they were first routed: those with a position, with it and its body. Those
    /// without: with `legacy`, the ones routed before positions were kept are routed again (and
    /// sent without a stamp); the others were not routed to this destination and are left out.
    pub(super) async fn as_first_routed(
        &self,
        events: &[StoredEvent],
        legacy: bool,
    ) -> Result<Vec<Outgoing>, StoreError> {
        let (Some(first), Some(last)) = (events.first(), events.last()) else { return Ok(Vec::new()) };
        let contiguous = events.windows(2).all(|w| w[0].seq < w[1].seq) && last.seq - first.seq < 10_000;
        let entries = if contiguous {
            self.store.stream_entries_between(self.spec.id, first.seq - 1, last.seq).await?
        } else {
            self.store.stream_entries_for(self.spec.id, &events.iter().map(|e| e.seq).collect::<Vec<_>>()).await?
        };
        let by_seq: HashMap<i64, StreamEntry> = entries.into_iter().map(|e| (e.seq, e)).collect();
        let started = if legacy {
            self.store.stream_head(self.spec.id).await?.map_or(i64::MAX, |h| h.started_seq)
        } else {
            i64::MIN
        };
        let mut out = Vec::new();
        for event in events {
            if let Some(entry) = by_seq.get(&event.seq) {
                let mut outgoing = Outgoing::from_stored(event);
                if let Some(body) = &entry.body {
                    outgoing.body = body.clone();
                }
                outgoing.stamp = Some(self.stamp(entry));
                out.push(outgoing);
            } else if event.seq <= started {
                out.extend(self.route(std::slice::from_ref(event)).await?);
            }
        }
        Ok(out)
    }

    fn state(&self) -> std::sync::MutexGuard<'_, StreamState> {
        // A panic while holding it cannot leave it half-updated in a way that matters here.
        self.stream.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn stamp(&self, entry: &StreamEntry) -> Stamp {
        let chain = ChainDigest::from_hex(&entry.chain).unwrap_or_else(|| {
            // Written by this code only; a bad value would show as a chain mismatch downstream.
            tracing::error!(
                destination = self.spec.id.get(),
                position = entry.position,
                "stored chain value is not hex"
            );
            ChainDigest([0; 32])
        });
        Stamp { stream: self.spec.stream_id.clone(), position: entry.position.max(0) as u64, chain }
    }

    /// The cursor is persisted at `seq`: positions up to it are settled; a checkpoint is made
    /// when one is due. A checkpoint that fails is logged; the next one covers the same ground.
    pub(super) async fn stream_passed(&self, sender: &Sender<'_>, seq: i64) {
        if let Err(error) = self.checkpoint_if_due(sender, seq).await {
            tracing::warn!(destination = self.spec.id.get(), %error, "could not make a stream checkpoint");
        }
    }

    async fn checkpoint_if_due(&self, sender: &Sender<'_>, seq: i64) -> Result<(), StoreError> {
        let Some(signer) = self.config.checkpoints.signer.clone() else { return Ok(()) };
        let (settled, through, last) = {
            let mut state = self.state();
            let settled = state.tail.passed(seq);
            (settled, state.tail.through(), state.last_checkpoint)
        };
        let Some((through, chain)) = through else { return Ok(()) };
        let (last, last_at) = match last {
            Some(last) => last,
            None => {
                let stored = self.store.last_checkpoint(self.spec.id).await?;
                // No checkpoint yet: the first comes after 60 s of activity (or 1,000 positions).
                let last = stored.as_ref().map_or((0, now_micros()), |c| (c.sequence.max(0) as u64, c.created_at));
                let mut state = self.state();
                state.last_checkpoint = Some(last);
                // One left undelivered before a restart (or by another node) is sent again.
                state.undelivered = stored.filter(|c| !c.delivered).map(|c| Undelivered::now(c.sequence, c.signed));
                last
            }
        };
        self.redeliver_checkpoint_if_due(sender).await?;
        // One at every `positions` settled (the cursor may pass many at once), then one at the
        // last settled position when the time is up.
        let mut last = last;
        for (position, chain) in settled {
            if position >= last + self.config.checkpoints.positions {
                self.checkpoint(sender, signer.as_ref(), position, chain).await?;
                last = position;
            }
        }
        let last_at = self.state().last_checkpoint.map_or(last_at, |l| l.1);
        let age = Duration::from_micros((now_micros() - last_at).max(0) as u64);
        if self.config.checkpoints.due(through, last, age) {
            self.checkpoint(sender, signer.as_ref(), through, chain).await?;
        }
        Ok(())
    }

    /// Signs, stores and delivers the checkpoint at `through`.
    async fn checkpoint(
        &self,
        sender: &Sender<'_>,
        signer: &dyn crate::stream::CheckpointSigner,
        through: u64,
        chain: ChainDigest,
    ) -> Result<(), StoreError> {
        let parked = self
            .store
            .parked_positions(self.spec.id, through as i64)
            .await?
            .into_iter()
            .map(|(sequence, body_sha256)| ParkedPosition { sequence: sequence.max(0) as u64, body_sha256 })
            .collect();
        let now = now_micros();
        let checkpoint = Checkpoint {
            stream: self.spec.stream_id.to_string(),
            sequence: through,
            chain: chain.to_hex(),
            parked,
            created_at: format_micros(now),
        };
        let json = serde_json::to_string(&signer.sign(checkpoint)).unwrap_or_default();
        self.store.insert_checkpoint(self.spec.id, through as i64, &json).await?;
        {
            let mut state = self.state();
            state.last_checkpoint = Some((through, now));
            state.undelivered = None;
        }
        self.deliver_checkpoint(sender, through, json, CHECKPOINT_RETRY_FIRST).await
    }

    /// Sends the latest checkpoint again once its wait is over.
    async fn redeliver_checkpoint_if_due(&self, sender: &Sender<'_>) -> Result<(), StoreError> {
        let due = {
            let mut state = self.state();
            match &state.undelivered {
                Some(u) if u.next_try <= Instant::now() => state.undelivered.take(),
                _ => None,
            }
        };
        match due {
            Some(u) => self.deliver_checkpoint(sender, u.through, u.json, (u.wait * 2).min(CHECKPOINT_RETRY_CAP)).await,
            None => Ok(()),
        }
    }

    /// Delivers a stored checkpoint where the sink takes them (S3 objects, in-band HTTP POSTs);
    /// a failure is remembered and tried again after `wait`.
    async fn deliver_checkpoint(
        &self,
        sender: &Sender<'_>,
        through: u64,
        json: String,
        wait: Duration,
    ) -> Result<(), StoreError> {
        let sent = match sender.sink {
            Sink::S3(sink) => {
                let key = format!("{}/{}/{:020}.json", names::CHECKPOINT_PREFIX, self.spec.id, through);
                Some(sink.put_checkpoint(&key, &json).await)
            }
            Sink::Http(sink) if self.store.in_band_checkpoints(self.spec.id).await? => {
                Some(sink.send_checkpoint(&json).await)
            }
            _ => None,
        };
        match sent {
            Some(Ok(())) => self.store.mark_checkpoint_delivered(self.spec.id, through as i64).await?,
            Some(Err(error)) => {
                tracing::warn!(destination = self.spec.id.get(), %error, retry_in = ?wait, "checkpoint not delivered");
                let mut state = self.state();
                // A newer checkpoint made meanwhile covers this one's ground.
                if state.undelivered.as_ref().is_none_or(|u| u.through < through) {
                    state.undelivered = Some(Undelivered { through, json, next_try: Instant::now() + wait, wait });
                }
            }
            None => {}
        }
        Ok(())
    }
}
