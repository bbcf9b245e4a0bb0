// Package process runs processes that span services (a deal's close, a
// syndication, a policy's life): it reacts to events of the log, sends
// commands to services over NATS, keeps durable deadlines, undoes what
// was done when a step cannot complete, and survives crashes.
//
// A process is a Definition: pure functions from its state and an input
// (an event of the log, the reply to a command, a deadline that fired) to
// a Decision (facts to record, commands to send, deadlines to set, an
// ending). A Manager runs the instances of one definition.
//
// # How it stays correct across crashes
//
//   - State is event-sourced in the stream process-<name>-<id>: what the
//     process saw (Observed), what it asked whom under which idempotency
//     key (CommandIssued), the answers (CommandSucceeded, CommandRefused),
//     its deadlines and how it ended. That stream is the audit trail.
//   - Every input is recorded with what it caused in one append at the
//     version the decision was made on; a conflict means another writer
//     got in first, and the input is planned again on the new state, where
//     it is usually a no-op (an event already observed, a reply to a step
//     no longer pending, a deadline no longer set for that time).
//   - The process stream is the outbox. A command is recorded as issued
//     before it is sent, and it is sent when the manager, following the
//     whole log, reaches that CommandIssued event and finds no reply yet
//     (sends run in the background, several at once).
//     After a crash the manager resumes from its checkpoint, reaches the
//     event again and sends again under the same key ("process/<name>/
//     <id>/<step>"), which the receiver's repository turns into the first
//     result. So a command takes effect once, provided receivers honour
//     idempotency keys, as every service (services/svc) does.
//   - Instances are folded and appended here rather than through
//     svc.Repository: its Load may answer from its cache without
//     reading the stream, while the manager must see an instance's latest
//     events before every send (a reply another manager recorded); and its
//     bookkeeping of idempotency keys buys nothing here, where every input
//     is recognised in the state itself (an event already seen, a step no
//     longer pending, a deadline no longer set for that time). Folded
//     instances are kept here too, and each load reads only the tail.
//   - The checkpoint (the last whole commit of the log handled) lives in the
//     JetStream bucket fb_process_checkpoints and is saved every second and
//     on a clean stop; what a crash loses is replayed and records nothing.
//
// # Deadlines: JetStream message schedules
//
// A deadline is armed as a message schedule (ADR-51: nats-server 2.12+,
// stream option AllowMsgSchedules, nats.go WithScheduleAt and
// WithScheduleTarget, all in the versions this module uses) in the stream
// FB_PROCESS_TIMERS. The schedule's subject names the process and the
// deadline, so arming it again replaces it rather than adding one; the
// server fires it once into a firing subject read by one durable consumer
// per definition. We chose this over a timer stream of our own because
// the server already keeps a durable, replicated timer that survives
// restarts, where ours would need a consumer that naks each message until
// it is due or an in-memory wheel rebuilt at every takeover. A firing is
// acknowledged only after the manager recorded DeadlineFired at the
// expected version, so a redelivered or repeated firing is a no-op.
// Schedules have a resolution of one second; a deadline is armed for the
// next whole second so it never fires early.
//
// # One active manager: a lease
//
// Managers of one definition share a key in the JetStream bucket
// fb_process_lease_<name> whose entries expire after LeaseTTL. The active
// one renews it every third of the TTL with a revision check; standbys try
// to create it and take over once it expires (or at once when the holder
// stops cleanly and deletes it). We chose a lease over a durable consumer
// with a single active member because the manager's input is the event
// store's Subscribe (which also has a KurrentDB backend), not a JetStream
// consumer of ours. The lease is for efficiency, not safety: a manager
// that outlives its lease briefly can only repeat work that the expected
// versions and idempotency keys make harmless.
//
// # Compensation
//
// A Command may carry its Undo. A Decision with Compensate undoes every
// step done so far that has one, newest first, one at a time, then ends
// the process as compensated with the reason. An undo that is refused ends
// the process as failed, saying which step could not be undone.
//
// # Limits
//
// Up to MaxInFlight commands wait for their replies at once; the checkpoint
// stays before the first whose reply is not recorded. A receiver that stays
// unavailable is sent its commands again with backoff, never given up on:
// once its commands fill every slot, every process of the definition waits
// until it is back.
package process
