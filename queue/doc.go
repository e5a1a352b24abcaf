// Package queue owns Job, the unit of work publishbot does, and durable
// queues of jobs: an embedded one on local disk (bbolt), Bolt, by default.
//
// The Queue contract: a job is acknowledged (Enqueue returns nil) only once
// it is on disk; jobs of one repository (Job.RepoKey) never run at the same
// time and ready ones leave in enqueue order; a queued job is replaced by a
// newer one with the same Job.Key (a burst of pushes publishes once, the
// newest); a failed job is retried with exponential backoff and jitter, then
// dead-lettered; a job taken and not finished when the process died is ready
// again when the queue is reopened; a delivery id is accepted once.
//
// Bolt keeps every state change in one fsync'd bbolt transaction, grouping
// the changes that arrive while a commit is in progress into the next one
// (group commit), and an in-memory index of live jobs so that Take and Stats
// do not read the file. One process owns the file.
//
// A NATS JetStream implementation, for several replicas, can follow the same
// interface: Enqueue publishes to a work-queue stream on a subject per
// coalescing key (publishbot.jobs.<repo>.<key>) with the Nats-Msg-Id header
// set to Job.Delivery, so JetStream's duplicate window gives ErrDuplicate
// (a KV bucket with a TTL extends it to 7 days) and MaxMsgsPerSubject=1 with
// DiscardOld gives coalescing. Take is a pull consumer fetch; per-repository
// exclusion is a KV lock per RepoKey (create-if-absent with a TTL, renewed
// while running), a job of a locked repository is Nak'd with a short delay.
// Done is Ack, NakWithDelay(backoff) for a retry, and Term plus a publish
// to a dead-letter stream after MaxDeliver; AckWait plays the lease, so a
// job whose process died is redelivered. Release is a Nak without delay
// (JetStream counts every delivery, so the attempt a release hands back is
// kept in a header of the message). NotBefore is a NakWithDelay until
// due. Stats come from the stream and consumer info.
package queue
