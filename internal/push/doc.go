// Package push sends Hearth's push notifications through FCM: who is notified of a new
// message, when (at once, or folded into a digest), what the notification says, and how
// it reaches every device without being lost or doubled. docs/notifications.md explains
// the rules for app developers; this comment is for the people who run and change it.
//
// # Parts
//
//   - The message part (HandleMessageCreated, which functions' onMessageWritten calls
//     for a created message; or NotifyMessage directly) picks the recipients: every member but the sender, minus those who muted the room
//     or set "none", "mentions"-only members who are not mentioned, and members whose
//     presence shows the room open. It queues the message for each in
//     pushQueue/{uid}_{roomId} (a guarded commit per recipient) and sends at once what is
//     due now: the first message of a window, mentions, direct messages.
//   - The flusher (FlushDue, run by functions' scheduler registry as push-flusher; Flush
//     for one round) sends the digests whose window has ended.
//   - The membership part (HandleMembershipWritten, which functions'
//     onMembershipWritten calls) drops a pending digest when its
//     recipient read the room, muted it, set "none" or left.
//   - The fan-out sends all devices of all recipients in SendEach batches of at most
//     500, MaxConcurrentBatches at once; prunes devices whose token FCM calls
//     unregistered or invalid, and devices not re-registered for TokenMaxAge (270 days);
//     retries 429 and 5xx with exponential backoff and jitter, honouring Retry-After.
//
// # Delivery guarantees
//
// The queue entry is the unit of work and lives in Firestore. Whoever sends it (the
// trigger for immediate pushes, a flusher for digests) first claims it with a lease: the
// trigger in the commit that queues the message, a flusher with a compare-and-set on
// the document's update time. Every write of an entry is guarded by the update time
// it was read at (internal/optimistic), never a read-write transaction: a burst keeps
// one entry per recipient hot, and transactions on a hot document wait for locks (the
// emulator even times them out, leaving a sent push unrecorded until its lease ends). A claimed entry's dueAt is the lease's
// end, so if the claimant dies before recording the send, the entry becomes due again
// when the lease expires and another instance sends it: at-least-once. Doubles can only
// come from that case (a send that happened but was not recorded before the lease ran
// out); several live flushers never send the same entry twice.
//
// Duplicate trigger deliveries (production triggers are at-least-once) are recognised by
// the message id, which the entry remembers (recentIds, the last 100), so a redelivered
// event pushes nothing; a reordered older message joins the pending digest as any other.
// A transient FCM failure of every device of a notification puts it back in the queue
// with backoff (MaxAttempts times); a partial failure counts as sent, since sending
// again would notify the other devices twice.
package push
