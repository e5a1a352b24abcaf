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
// Package queue/jetstream is the replicated implementation on NATS
// JetStream, for several `serve` replicas; package queue/queuetest is the
// contract as a test suite that both implementations pass. The one promise
// the replicated queue relaxes: ready jobs of different repositories need
// not leave in global enqueue order (those of one repository do).
package queue
